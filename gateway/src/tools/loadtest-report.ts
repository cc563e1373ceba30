/**
 * Pure parts of the load test: Prometheus text parsing, Triton counter deltas, percentiles and
 * the report. The HTTP driving lives in loadtest.ts.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE_RE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL_RE = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

const parseValue = (s: string): number => {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  return Number(s); // NaN stays NaN
};

/** Parses the Prometheus text exposition format (comments skipped, label values unescaped). */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = SAMPLE_RE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL_RE)) {
      labels[l[1]] = l[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    samples.push({ name: m[1], labels, value: parseValue(m[3]) });
  }
  return samples;
}

/** Sum of every series of `name` whose labels include `match` (e.g. { model: 'wav2lip' }). */
export function sumMetric(samples: Sample[], name: string, match: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((acc, s) => acc + s.value, 0);
}

export interface TritonCounters {
  success: number;
  failure: number;
  inferences: number;
  executions: number;
  requestUs: number;
  queueUs: number;
  computeInputUs: number;
  computeInferUs: number;
  computeOutputUs: number;
}

/** Triton's cumulative per-model counters (shared/docs/triton.md §3) from one scrape. */
export function tritonCounters(samples: Sample[], model = 'wav2lip'): TritonCounters {
  const m = (name: string) => sumMetric(samples, name, { model });
  return {
    success: m('nv_inference_request_success'),
    failure: m('nv_inference_request_failure'),
    inferences: m('nv_inference_count'),
    executions: m('nv_inference_exec_count'),
    requestUs: m('nv_inference_request_duration_us'),
    queueUs: m('nv_inference_queue_duration_us'),
    computeInputUs: m('nv_inference_compute_input_duration_us'),
    computeInferUs: m('nv_inference_compute_infer_duration_us'),
    computeOutputUs: m('nv_inference_compute_output_duration_us'),
  };
}

export interface TritonWindow {
  requests: number;
  failures: number;
  inferences: number;
  executions: number;
  /** inferences per execution = the batch size Triton actually ran (what its dynamic batcher merged) */
  framesPerExecution: number;
  /** successful requests per execution: above 1 only when requests were merged */
  requestsPerExecution: number;
  /** per successful request (the µs counters only grow for successes) */
  avgRequestMs: number;
  avgQueueMs: number;
  avgComputeInferMs: number;
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : NaN);

/** Deltas between two scrapes, turned into per-request averages (divide by successes, triton.md §3). */
export function tritonWindow(before: TritonCounters, after: TritonCounters): TritonWindow {
  const d = (k: keyof TritonCounters) => after[k] - before[k];
  const requests = d('success');
  return {
    requests,
    failures: d('failure'),
    inferences: d('inferences'),
    executions: d('executions'),
    framesPerExecution: ratio(d('inferences'), d('executions')),
    requestsPerExecution: ratio(requests, d('executions')),
    avgRequestMs: ratio(d('requestUs'), requests) / 1000,
    avgQueueMs: ratio(d('queueUs'), requests) / 1000,
    avgComputeInferMs: ratio(d('computeInferUs'), requests) / 1000,
  };
}

/** Percentile with linear interpolation between closest ranks (p in [0, 100]); NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  if (p < 0 || p > 100) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

export interface JobOutcome {
  ok: boolean;
  latencyMs: number;
  /** gateway error code (or a transport error label) when not ok */
  error?: string;
}

export interface JobSummary {
  jobs: number;
  succeeded: number;
  failed: number;
  jobsPerSec: number;
  p50Ms: number;
  p95Ms: number;
  errors: Record<string, number>;
}

/** Throughput counts finished successful jobs over the wall time; latency percentiles over successes. */
export function summarizeJobs(outcomes: readonly JobOutcome[], wallMs: number): JobSummary {
  const ok = outcomes.filter((o) => o.ok).map((o) => o.latencyMs);
  const errors: Record<string, number> = {};
  for (const o of outcomes) if (!o.ok) errors[o.error ?? 'UNKNOWN'] = (errors[o.error ?? 'UNKNOWN'] ?? 0) + 1;
  return {
    jobs: outcomes.length,
    succeeded: ok.length,
    failed: outcomes.length - ok.length,
    jobsPerSec: wallMs > 0 ? ok.length / (wallMs / 1000) : NaN,
    p50Ms: percentile(ok, 50),
    p95Ms: percentile(ok, 95),
    errors,
  };
}

const fmt = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');

export function formatReport(jobs: JobSummary, triton?: TritonWindow): string {
  const lines = [
    `jobs: ${jobs.jobs} (succeeded ${jobs.succeeded}, failed ${jobs.failed})`,
    `throughput: ${fmt(jobs.jobsPerSec, 3)} jobs/s`,
    `job latency: p50 ${fmt(jobs.p50Ms, 0)} ms, p95 ${fmt(jobs.p95Ms, 0)} ms`,
  ];
  const errs = Object.entries(jobs.errors);
  if (errs.length) lines.push(`errors: ${errs.map(([k, v]) => `${k}×${v}`).join(', ')}`);
  if (triton) {
    lines.push(
      `triton: ${triton.requests} requests (${triton.failures} failed), ${triton.inferences} inferences in ${triton.executions} executions`,
      `triton: ${fmt(triton.framesPerExecution, 2)} frames per execution (inference_count / exec_count), ${fmt(triton.requestsPerExecution, 2)} requests per execution`,
      `triton per request: queue ${fmt(triton.avgQueueMs, 2)} ms vs compute ${fmt(triton.avgComputeInferMs, 2)} ms (end-to-end in server ${fmt(triton.avgRequestMs, 2)} ms)`,
    );
  }
  return lines.join('\n');
}
