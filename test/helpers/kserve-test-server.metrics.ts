/** Cumulative counters of the test server, in the units Triton keeps them (ns; converted to µs for /metrics). */
export interface ServerCounters {
  success: number;
  failure: number;
  inferenceCount: number;
  execCount: number;
  requestNs: number;
  queueNs: number;
  computeInputNs: number;
  computeInferNs: number;
  computeOutputNs: number;
  pending: number;
  /** ns the model instance spent executing (once per execution, not per request) */
  busyNs: number;
  lastInferenceMs: number;
  batchSizes: Map<number, number>;
}

/** All counters at zero (a fresh server, or a test that renders metrics without one). */
export function newServerCounters(): ServerCounters {
  return {
    success: 0,
    failure: 0,
    inferenceCount: 0,
    execCount: 0,
    requestNs: 0,
    queueNs: 0,
    computeInputNs: 0,
    computeInferNs: 0,
    computeOutputNs: 0,
    pending: 0,
    busyNs: 0,
    lastInferenceMs: 0,
    batchSizes: new Map(),
  };
}

/**
 * Renders the counters as Prometheus text with Triton's metric names and labels
 * (shared/docs/triton.md §3), so the load test and dashboards can be exercised without a GPU.
 */
export function renderTritonMetrics(model: string, c: ServerCounters, deviceUtilization?: number): string {
  const labels = `model="${model}",version="1"`;
  const us = (ns: number) => Math.round(ns / 1000);
  const rows: [string, 'counter' | 'gauge', string, number, string?][] = [
    ['nv_inference_request_success', 'counter', 'Number of successful inference requests, all batch sizes', c.success],
    ['nv_inference_request_failure', 'counter', 'Number of failed inference requests, all batch sizes', c.failure, ',reason="OTHER"'],
    ['nv_inference_count', 'counter', 'Number of inferences performed (does not include cached requests)', c.inferenceCount],
    ['nv_inference_exec_count', 'counter', 'Number of model executions performed (does not include cached requests)', c.execCount],
    ['nv_inference_pending_request_count', 'gauge', 'Instantaneous number of pending requests awaiting execution per-model.', c.pending],
    ['nv_inference_request_duration_us', 'counter', 'Cumulative inference request duration in microseconds', us(c.requestNs)],
    ['nv_inference_queue_duration_us', 'counter', 'Cumulative inference queuing duration in microseconds', us(c.queueNs)],
    ['nv_inference_compute_input_duration_us', 'counter', 'Cumulative compute input duration in microseconds', us(c.computeInputNs)],
    ['nv_inference_compute_infer_duration_us', 'counter', 'Cumulative compute inference duration in microseconds', us(c.computeInferNs)],
    [
      'nv_inference_compute_output_duration_us',
      'counter',
      'Cumulative inference compute output duration in microseconds',
      us(c.computeOutputNs),
    ],
  ];
  const lines: string[] = [];
  for (const [name, type, help, value, extra] of rows) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name}{${labels}${extra ?? ''}} ${value}`);
  }
  if (deviceUtilization !== undefined) {
    // Triton's per-GPU gauge (0..1); the stand-in reports the share of time its model was computing
    lines.push('# HELP nv_gpu_utilization GPU utilization rate [0.0 - 1.0)', '# TYPE nv_gpu_utilization gauge');
    lines.push(`nv_gpu_utilization{gpu_uuid="GPU-kserve-test-server"} ${deviceUtilization}`);
  }
  return lines.join('\n') + '\n';
}

/** The counters as KServe ModelStatistics (Triton's extension): per-request stats, and executions per batch size. */
export function modelStatistics(model: string, c: ServerCounters): unknown {
  const d = (count: number, ns: number) => ({ count, ns });
  return {
    name: model,
    version: '1',
    last_inference: c.lastInferenceMs,
    inference_count: c.inferenceCount,
    execution_count: c.execCount,
    inference_stats: {
      success: d(c.success, c.requestNs),
      fail: d(c.failure, 0),
      queue: d(c.success, c.queueNs),
      compute_input: d(c.success, c.computeInputNs),
      compute_infer: d(c.success, c.computeInferNs),
      compute_output: d(c.success, c.computeOutputNs),
    },
    batch_stats: [...c.batchSizes.entries()].map(([bs, count]) => ({ batch_size: bs, compute_infer: d(count, 0) })),
  };
}
