import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import {
  formatReport,
  JobOutcome,
  parsePrometheusText,
  summarizeJobs,
  TritonCounters,
  tritonCounters,
  tritonWindow,
} from './loadtest-report';

/**
 * Load test: keeps `concurrency` jobs in flight against the gateway's HTTP API (POST /v1/jobs with
 * a face and an audio file, then polls GET /v1/jobs/:id) until `jobs` jobs were started or
 * `durationS` passed, then reports jobs/s and p50/p95 job latency. With a Triton metrics URL it
 * scrapes Triton before and after and reports the achieved batch size and queue vs compute time.
 *
 *   npm run build && npm run loadtest -- --face face.png --audio speech.wav --concurrency 8 --duration 60
 */
export interface LoadtestOptions {
  gatewayUrl: string;
  apiKey?: string;
  concurrency: number;
  /** stop starting new jobs after this many (0 = no count limit) */
  jobs: number;
  /** stop starting new jobs after this many seconds (0 = no time limit) */
  durationS: number;
  face: string;
  audio: string;
  tritonMetricsUrl?: string;
  tritonModel: string;
  pollMs: number;
  jobTimeoutS: number;
}

const HELP = `usage: loadtest --face FILE --audio FILE [--gateway-url URL] [--api-key KEY] [--concurrency N]
                [--jobs N | --duration S] [--triton-metrics-url URL] [--triton-model NAME] [--poll-ms MS] [--job-timeout S]
env: GATEWAY_URL, API_KEY, LOADTEST_CONCURRENCY, LOADTEST_JOBS, LOADTEST_DURATION_S, LOADTEST_FACE, LOADTEST_AUDIO, TRITON_METRICS_URL`;

const positiveInt = (name: string, v: string | undefined, dflt: number, min = 1): number => {
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got '${v}'`);
  return n;
};

/** Flags win over environment variables; throws a one-line Error on bad input. */
export function parseLoadtestArgs(argv: string[], env: NodeJS.ProcessEnv): LoadtestOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      'gateway-url': { type: 'string' },
      'api-key': { type: 'string' },
      concurrency: { type: 'string' },
      jobs: { type: 'string' },
      duration: { type: 'string' },
      face: { type: 'string' },
      audio: { type: 'string' },
      'triton-metrics-url': { type: 'string' },
      'triton-model': { type: 'string' },
      'poll-ms': { type: 'string' },
      'job-timeout': { type: 'string' },
    },
    strict: true,
  });
  const face = values.face ?? env.LOADTEST_FACE;
  const audio = values.audio ?? env.LOADTEST_AUDIO;
  if (!face || !audio) throw new Error(`--face and --audio are required\n${HELP}`);
  const jobs = positiveInt('jobs', values.jobs ?? env.LOADTEST_JOBS, 0, 0);
  let durationS = positiveInt('duration', values.duration ?? env.LOADTEST_DURATION_S, 0, 0);
  if (jobs === 0 && durationS === 0) durationS = 30; // always bounded
  return {
    gatewayUrl: (values['gateway-url'] ?? env.GATEWAY_URL ?? 'http://localhost:8080').replace(/\/+$/, ''),
    apiKey: values['api-key'] ?? env.API_KEY,
    concurrency: positiveInt('concurrency', values.concurrency ?? env.LOADTEST_CONCURRENCY, 4),
    jobs,
    durationS,
    face: path.resolve(face),
    audio: path.resolve(audio),
    tritonMetricsUrl: values['triton-metrics-url'] ?? env.TRITON_METRICS_URL,
    tritonModel: values['triton-model'] ?? env.TRITON_MODEL ?? 'wav2lip',
    pollMs: positiveInt('poll-ms', values['poll-ms'], 1000),
    jobTimeoutS: positiveInt('job-timeout', values['job-timeout'], 600),
  };
}

/** Job id from the POST /v1/jobs answer (accepts { id }, { jobId } or { job: { id } }). */
export function jobIdOf(body: unknown): string | undefined {
  const b = body as { id?: unknown; jobId?: unknown; job?: { id?: unknown } } | null;
  const id = b?.id ?? b?.jobId ?? b?.job?.id;
  return typeof id === 'string' && id ? id : undefined;
}

/** Status and error code from GET /v1/jobs/:id (top level or under `job`). */
export function jobStatusOf(body: unknown): { status?: string; error?: string } {
  const b = (body as { job?: unknown })?.job ?? body;
  const j = b as { status?: unknown; error?: unknown; errorCode?: unknown } | null;
  const err = j?.error as { code?: unknown } | string | undefined;
  const code = typeof err === 'string' ? err : typeof err?.code === 'string' ? err.code : j?.errorCode;
  return { status: typeof j?.status === 'string' ? j.status : undefined, error: typeof code === 'string' ? code : undefined };
}

/** Retry-After in seconds (the only form the gateway sends) → ms; the fallback when absent or unparsable. */
export function retryAfterMs(header: string | null, fallbackMs: number): number {
  const s = Number(header);
  return header !== null && header.trim() !== '' && Number.isFinite(s) && s >= 0 ? Math.min(s, 60) * 1000 : fallbackMs;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function runJob(opts: LoadtestOptions, files: { face: Blob; audio: Blob }, headers: Record<string, string>): Promise<JobOutcome> {
  const started = Date.now();
  const fail = (error: string): JobOutcome => ({ ok: false, latencyMs: Date.now() - started, error });
  try {
    const form = new FormData();
    form.append('face', files.face, path.basename(opts.face));
    form.append('audio', files.audio, path.basename(opts.audio));
    const created = await fetch(`${opts.gatewayUrl}/v1/jobs`, { method: 'POST', body: form, headers });
    const body: unknown = await created.json().catch(() => undefined);
    const id = jobIdOf(body);
    if (!created.ok || !id) return fail(jobStatusOf(body).error ?? `HTTP_${created.status}`);
    while (Date.now() - started < opts.jobTimeoutS * 1000) {
      await sleep(opts.pollMs);
      const res = await fetch(`${opts.gatewayUrl}/v1/jobs/${encodeURIComponent(id)}`, { headers });
      if (res.status === 429) {
        // our own polling hit the gateway's rate limit: the job is still running, so wait and poll again
        await sleep(retryAfterMs(res.headers.get('retry-after'), opts.pollMs * 4));
        continue;
      }
      const { status, error } = jobStatusOf(await res.json().catch(() => undefined));
      if (status === 'succeeded') return { ok: true, latencyMs: Date.now() - started };
      if (status === 'failed' || status === 'cancelled') return fail(error ?? status.toUpperCase());
      if (!res.ok) return fail(error ?? `HTTP_${res.status}`);
    }
    return fail('LOADTEST_JOB_TIMEOUT');
  } catch (err) {
    return fail(`TRANSPORT: ${(err as Error).message}`);
  }
}

async function scrapeTriton(url: string, model: string): Promise<TritonCounters> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`scraping ${url} failed: HTTP ${res.status}`);
  return tritonCounters(parsePrometheusText(await res.text()), model);
}

export async function runLoadtest(opts: LoadtestOptions, log: (line: string) => void = console.log): Promise<string> {
  const files = {
    face: new Blob([fs.readFileSync(opts.face)]),
    audio: new Blob([fs.readFileSync(opts.audio)]),
  };
  const headers: Record<string, string> = opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {};
  const before = opts.tritonMetricsUrl ? await scrapeTriton(opts.tritonMetricsUrl, opts.tritonModel) : undefined;
  const limit = opts.jobs > 0 ? opts.jobs : Infinity;
  const stopAt = opts.durationS > 0 ? Date.now() + opts.durationS * 1000 : Infinity;
  const outcomes: JobOutcome[] = [];
  let startedJobs = 0;
  const t0 = Date.now();
  log(`loadtest: ${opts.concurrency} concurrent against ${opts.gatewayUrl} (${opts.jobs || '∞'} jobs, ${opts.durationS || '∞'} s)`);
  const worker = async () => {
    while (startedJobs < limit && Date.now() < stopAt) {
      startedJobs++;
      const outcome = await runJob(opts, files, headers);
      outcomes.push(outcome);
      if (outcomes.length % 10 === 0) log(`  ${outcomes.length} jobs done`);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const wallMs = Date.now() - t0;
  const after = opts.tritonMetricsUrl ? await scrapeTriton(opts.tritonMetricsUrl, opts.tritonModel) : undefined;
  return formatReport(summarizeJobs(outcomes, wallMs), before && after ? tritonWindow(before, after) : undefined);
}

if (require.main === module) {
  (async () => {
    const opts = parseLoadtestArgs(process.argv.slice(2), process.env);
    console.log(await runLoadtest(opts));
  })().catch((err: Error) => {
    console.error(`loadtest: ${err.message}`);
    process.exit(1);
  });
}
