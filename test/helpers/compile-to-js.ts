import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export const REPO = path.resolve(__dirname, '../..');

/**
 * Compiles a few gateway sources with tsc as the build does (tsconfig.json's options: decorators, JSON
 * imports) into a fresh folder under REPO/tmp, so the emitted .js resolve packages from the repo's
 * node_modules. For tests of code that behaves differently from dist/ than under ts-jest (worker
 * loading). Returns the output folder; the caller removes it.
 */
export function compileToJs(prefix: string, files: string[]): string {
  fs.mkdirSync(path.join(REPO, 'tmp'), { recursive: true });
  const outDir = fs.mkdtempSync(path.join(REPO, 'tmp', `${prefix}-`));
  const tsc = require.resolve('typescript/bin/tsc');
  const options = [
    ['--outDir', outDir, '--rootDir', 'gateway/src'],
    ['--target', 'ES2022', '--module', 'commonjs', '--moduleResolution', 'node'],
    ['--esModuleInterop', '--experimentalDecorators', '--emitDecoratorMetadata', '--resolveJsonModule'],
    ['--skipLibCheck', '--strict', '--types', 'node'],
  ].flat();
  execFileSync(process.execPath, [tsc, ...options, ...files], { cwd: REPO, stdio: 'pipe' });
  return outDir;
}
