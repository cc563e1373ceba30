import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { compileToJs } from '../../helpers/compile-to-js';
import { makeTinyModel, seededBytes, tinyModelExpected } from './tiny-model';

/**
 * The worker is loaded differently from compiled JavaScript than under ts-jest (worker-loader.ts), so
 * this compiles the backend with tsc, as the build does, and runs one batch with plain `node`.
 */
describe('OnnxBackend compiled to JavaScript', () => {
  let work: string;
  let outDir: string;

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-dist-model-'));
    // the worker is not imported statically, so the build must name it (tsconfig.build.json's glob does)
    outDir = compileToJs('onnx-dist', ['gateway/src/inference/onnx.backend.ts', 'gateway/src/inference/onnx-worker.ts']);
  });
  afterAll(() => {
    fs.rmSync(outDir, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('should start the worker from the emitted .js and return the exact model output', () => {
    expect(fs.existsSync(path.join(outDir, 'inference', 'onnx-worker.js'))).toBe(true);
    const model = makeTinyModel(work, 'good');
    const face = seededBytes(2 * 27648, 3);
    const mel = new Float32Array(2 * 1280);
    mel[0] = 12;
    mel[1280 + 9] = -40;
    fs.writeFileSync(path.join(work, 'face.bin'), face);
    fs.writeFileSync(path.join(work, 'mel.bin'), Buffer.from(mel.buffer));
    const script = `
      const fs = require('fs');
      const { OnnxBackend } = require(${JSON.stringify(path.join(outDir, 'inference', 'onnx.backend.js'))});
      (async () => {
        const b = new OnnxBackend({ modelPath: ${JSON.stringify(model)}, onnxThreads: 1, batchSize: 4 });
        await b.start();
        if (!b.readiness().ready) throw new Error(b.readiness().reason);
        const face = new Uint8Array(fs.readFileSync(${JSON.stringify(path.join(work, 'face.bin'))}));
        const melBytes = fs.readFileSync(${JSON.stringify(path.join(work, 'mel.bin'))});
        const mel = new Float32Array(melBytes.buffer.slice(melBytes.byteOffset, melBytes.byteOffset + melBytes.length));
        const out = await b.infer({ n: 2, mel, face });
        fs.writeFileSync(${JSON.stringify(path.join(work, 'out.bin'))}, out);
        await b.close();
      })().catch((e) => { console.error(e); process.exit(1); });`;
    // the child must also exit on its own: a finished backend does not keep the process alive
    execFileSync(process.execPath, ['-e', script], { cwd: os.tmpdir(), stdio: 'pipe', timeout: 60_000 });
    const out = new Uint8Array(fs.readFileSync(path.join(work, 'out.bin')));
    const expected = tinyModelExpected(2, mel, face);
    expect(Buffer.compare(Buffer.from(out), Buffer.from(expected))).toBe(0);
  });
});
