import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(REPO_ROOT, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');

export interface LintProblem {
  ruleId: string;
  severity: 'error' | 'warn';
  message: string;
  pointer: string;
}

export interface LintReport {
  errors: number;
  warnings: number;
  problems: LintProblem[];
}

/**
 * Lints an OpenAPI document with Redocly CLI under the repo's redocly.yaml (recommended rules), in a
 * child process on a temp file. Telemetry and update notices are off: the CLI sends nothing anywhere.
 */
export async function redoclyLint(doc: unknown): Promise<LintReport> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lipsync-redocly-'));
  try {
    const file = path.join(dir, 'openapi.json');
    fs.writeFileSync(file, JSON.stringify(doc, null, 2));
    const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_NOTIFICATIONS: 'true', DO_NOT_TRACK: '1', NO_COLOR: '1' };
    const args = [CLI, 'lint', file, '--config', path.join(REPO_ROOT, 'redocly.yaml'), '--format=json'];
    // exit status 1 just means "problems found"; the JSON report on stdout says which
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, args, { env, cwd: dir, maxBuffer: 64 << 20 }, (err, out, errText) => {
        if (out.trim().startsWith('{')) resolve(out);
        else reject(new Error(`redocly lint produced no report (${err?.message ?? 'no error'}): ${errText.slice(-2000)}`));
      }),
    );
    const report = JSON.parse(stdout) as {
      totals: { errors: number; warnings: number };
      problems: { ruleId: string; severity: 'error' | 'warn'; message: string; location: { pointer: string }[] }[];
    };
    return {
      errors: report.totals.errors,
      warnings: report.totals.warnings,
      problems: report.problems.map((p) => ({
        ruleId: p.ruleId,
        severity: p.severity,
        message: p.message,
        pointer: p.location[0]?.pointer ?? '',
      })),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
