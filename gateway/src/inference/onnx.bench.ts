import * as os from 'os';
import { FACE_ELEMENTS, MEL_WINDOW_ELEMENTS } from './model-contract';
import { OnnxBackend } from './onnx.backend';

export interface OnnxBenchOptions {
  /** intra-op threads (default: all cores, as the server uses) */
  threads?: number;
  /** timed runs per batch size after one warm-up run (default 3) */
  iterations?: number;
}

export interface OnnxBenchResult {
  batch: number;
  iterations: number;
  /** median over the timed runs, infer() call to result */
  msPerBatch: number;
  /** median session.run time inside the worker */
  modelMsPerBatch: number;
  msPerFrame: number;
  framesPerSecond: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Deterministic inputs in the contract's ranges (mel in [-4, 4]); the model's speed does not depend on them. */
function benchBatch(n: number) {
  const mel = new Float32Array(n * MEL_WINDOW_ELEMENTS);
  const face = new Uint8Array(n * FACE_ELEMENTS);
  for (let i = 0; i < mel.length; i++) mel[i] = ((i * 37) % 801) / 100 - 4;
  for (let i = 0; i < face.length; i++) face[i] = (i * 131) & 0xff;
  return { n, mel, face };
}

/** Times the embedded backend (worker thread + ORT CPU) at each batch size on the given model. */
export async function benchOnnx(modelPath: string, sizes: number[], options: OnnxBenchOptions = {}): Promise<OnnxBenchResult[]> {
  const threads = options.threads ?? Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  const iterations = Math.max(1, options.iterations ?? 3);
  const backend = new OnnxBackend({ modelPath, onnxThreads: threads, batchSize: Math.max(...sizes) });
  await backend.start();
  const r = backend.readiness();
  if (!r.ready) {
    await backend.close();
    throw new Error(`cannot benchmark: ${r.reason}`);
  }
  try {
    const results: OnnxBenchResult[] = [];
    for (const n of sizes) {
      const batch = benchBatch(n);
      await backend.infer(batch); // warm-up: first-run allocations and kernel selection
      const total: number[] = [];
      const model: number[] = [];
      const unsubscribe = backend.onBatch((t) => {
        total.push(t.totalMs);
        model.push(t.modelMs);
      });
      for (let i = 0; i < iterations; i++) await backend.infer(batch);
      unsubscribe();
      const msPerBatch = median(total);
      results.push({
        batch: n,
        iterations,
        msPerBatch,
        modelMsPerBatch: median(model),
        msPerFrame: msPerBatch / n,
        framesPerSecond: (1000 * n) / msPerBatch,
      });
    }
    return results;
  } finally {
    await backend.close();
  }
}

/** A small fixed-width table for the CLI. */
export function formatOnnxBench(results: OnnxBenchResult[]): string {
  const head = 'batch  ms/batch  model ms  ms/frame  frames/s';
  const rows = results.map((r) =>
    [
      String(r.batch).padStart(5),
      r.msPerBatch.toFixed(1).padStart(9),
      r.modelMsPerBatch.toFixed(1).padStart(9),
      r.msPerFrame.toFixed(1).padStart(9),
      r.framesPerSecond.toFixed(2).padStart(9),
    ].join(' '),
  );
  return [head, ...rows].join('\n');
}
