import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { benchOnnx, formatOnnxBench } from '../../../gateway/src/inference/onnx.bench';
import { makeTinyModel } from './tiny-model';

describe(benchOnnx.name, () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-bench-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('should report one consistent row per batch size', async () => {
    const results = await benchOnnx(makeTinyModel(dir, 'good'), [1, 3], { threads: 1, iterations: 2 });
    expect(results.map((r) => r.batch)).toEqual([1, 3]);
    for (const r of results) {
      expect(r.iterations).toBe(2);
      expect(r.msPerBatch).toBeGreaterThan(0);
      expect(r.msPerBatch).toBeGreaterThanOrEqual(r.modelMsPerBatch);
      expect(r.msPerFrame * r.batch).toBeCloseTo(r.msPerBatch, 6);
      expect(r.framesPerSecond).toBeCloseTo((1000 * r.batch) / r.msPerBatch, 6);
    }
    expect(formatOnnxBench(results).split('\n')).toHaveLength(3);
  });

  it('should refuse to benchmark a model that is not ready, with the reason', async () => {
    await expect(benchOnnx(path.join(dir, 'absent.onnx'), [1])).rejects.toThrow(/setup-model\.sh/);
  });
});
