import { promises as fs } from 'fs';
import * as os from 'os';
import type { ModelPrecision } from '../config/config';
import { FACE_ELEMENTS, MEL_WINDOW_ELEMENTS } from './model-contract';
import { OnnxBackend } from './onnx.backend';

/** CPU features that decide int8 speed (and the exporter's weight bits): VNNI / AMX int8 dot products. */
export const INT8_CPU_FLAGS = ['avx2', 'avx512f', 'avx512_vnni', 'avx_vnni', 'amx_int8', 'amx_tile'] as const;

/** "model name" and the int8-relevant flags of /proc/cpuinfo's first processor (pure: takes its text). */
export function cpuInt8Summary(cpuinfo: string): { model: string; flags: Record<string, boolean> } {
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(cpuinfo)?.[1].trim();
  const have = new Set((field('flags') ?? '').split(/\s+/));
  return { model: field('model name') ?? 'unknown CPU', flags: Object.fromEntries(INT8_CPU_FLAGS.map((f) => [f, have.has(f)])) };
}

/** The bench header line: CPU model, cores and which int8 features it has. */
export async function cpuHeader(): Promise<string> {
  const text = await fs.readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const { model, flags } = cpuInt8Summary(text);
  const list = Object.entries(flags)
    .map(([f, on]) => `${f} ${on ? 'yes' : 'no'}`)
    .join(', ');
  return `cpu: ${model}, ${os.availableParallelism?.() ?? os.cpus().length} cores; ${list}`;
}

export interface PrecisionRow {
  batch: number;
  /** median ms per batch (session.run in the worker) for each precision */
  ms: Record<ModelPrecision, number>;
  /** fp32 ms / int8 ms: how many times faster int8 is */
  speedup: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * FP32 vs int8 model-only time at each batch size in one run. Both models stay loaded and their runs
 * alternate (fp32, int8, fp32, …), so a neighbour loading the shared CPU slows both alike and the
 * ratio stays meaningful even when the absolute figures are not.
 */
export async function benchPrecisions(
  models: Record<ModelPrecision, string>,
  sizes: number[],
  opts: { threads: number; iterations?: number },
): Promise<PrecisionRow[]> {
  const iterations = Math.max(1, opts.iterations ?? 3);
  const batchSize = Math.max(...sizes);
  const backends = {
    fp32: new OnnxBackend({ modelPath: models.fp32, onnxThreads: opts.threads, batchSize, modelPrecision: 'fp32' }),
    int8: new OnnxBackend({ modelPath: models.int8, onnxThreads: opts.threads, batchSize, modelPrecision: 'int8' }),
  };
  try {
    for (const b of Object.values(backends)) {
      await b.start();
      const r = b.readiness();
      if (!r.ready) throw new Error(`cannot benchmark: ${r.reason}`);
    }
    const rows: PrecisionRow[] = [];
    for (const n of sizes) {
      const mel = new Float32Array(n * MEL_WINDOW_ELEMENTS).map((_, i) => ((i * 37) % 801) / 100 - 4);
      const face = new Uint8Array(n * FACE_ELEMENTS).map((_, i) => (i * 131) & 0xff);
      const times: Record<ModelPrecision, number[]> = { fp32: [], int8: [] };
      for (const p of ['fp32', 'int8'] as const) await backends[p].infer({ n, mel, face }); // warm-up
      for (let i = 0; i < iterations; i++) {
        for (const p of ['fp32', 'int8'] as const) {
          const b = backends[p];
          const done = new Promise<number>((resolve) => {
            const off = b.onBatch((t) => (off(), resolve(t.modelMs)));
          });
          await b.infer({ n, mel, face });
          times[p].push(await done);
        }
      }
      const ms = { fp32: median(times.fp32), int8: median(times.int8) };
      rows.push({ batch: n, ms, speedup: ms.fp32 / ms.int8 });
    }
    return rows;
  } finally {
    await Promise.all(Object.values(backends).map((b) => b.close()));
  }
}

export function formatPrecisionBench(rows: PrecisionRow[]): string {
  const head = 'batch   fp32 ms/batch   int8 ms/batch   fp32 f/s   int8 f/s   int8 speed-up';
  const lines = rows.map((r) =>
    [
      String(r.batch).padStart(5),
      r.ms.fp32.toFixed(1).padStart(15),
      r.ms.int8.toFixed(1).padStart(15),
      ((1000 * r.batch) / r.ms.fp32).toFixed(2).padStart(10),
      ((1000 * r.batch) / r.ms.int8).toFixed(2).padStart(10),
      `${r.speedup.toFixed(2)}×`.padStart(15),
    ].join(' '),
  );
  return [head, ...lines].join('\n');
}
