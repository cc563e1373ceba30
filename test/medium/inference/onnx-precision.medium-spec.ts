import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GatewayError } from '../../../gateway/src/common/errors';
import type { ModelPrecision } from '../../../gateway/src/config/config';
import { OnnxBackend } from '../../../gateway/src/inference/onnx.backend';
import { byteDiff, makeTinyModel, seededBytes, tinyModelExpected } from './tiny-model';

describe(`${OnnxBackend.name} precision (MODEL_PRECISION)`, () => {
  let dir: string;
  const open: OnnxBackend[] = [];
  const backend = (modelPath: string, modelPrecision?: ModelPrecision) => {
    const b = new OnnxBackend({ modelPath, onnxThreads: 1, batchSize: 8, modelPrecision });
    open.push(b);
    return b;
  };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-precision-'));
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((b) => b.close()));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('should load an int8 file when told int8, say so in readiness and run it', async () => {
    const sut = backend(makeTinyModel(dir, 'good', 'int8'), 'int8');
    await sut.start();
    expect(sut.readiness()).toMatchObject({ ready: true, precision: 'int8' });
    const mel = new Float32Array(2 * 80 * 16).fill(0);
    mel[5] = 3;
    const face = seededBytes(2 * 96 * 96 * 3, 3);
    expect(byteDiff(await sut.infer({ n: 2, mel, face }), tinyModelExpected(2, mel, face))).toBe('same');
  });

  it('should refuse a missing int8 file with the int8 build command in the reason and the error', async () => {
    const missing = path.join(dir, 'wav2lip_int8', '1', 'model.onnx');
    const sut = backend(missing, 'int8');
    await sut.start();
    const r = sut.readiness();
    expect(r.ready).toBe(false);
    expect(r.reason).toContain(`int8 model file not found: ${missing}`);
    expect(r.reason).toContain('bash scripts/setup-model.sh --int8');
    const err = await sut.infer({ n: 1, mel: new Float32Array(80 * 16), face: new Uint8Array(96 * 96 * 3) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('BACKEND_UNAVAILABLE');
    expect((err as GatewayError).message).toContain('setup-model.sh --int8');
  });

  it('should refuse a float file when told int8, and an int8 file when told fp32 (the default)', async () => {
    const fp32 = backend(makeTinyModel(dir, 'good', 'fp32'), 'int8');
    await fp32.start();
    expect(fp32.readiness()).toMatchObject({ ready: false });
    expect(fp32.readiness().reason).toMatch(
      /MODEL_CONTRACT_MISMATCH: .* is fp32 but MODEL_PRECISION=int8; build it with `bash scripts\/setup-model.sh --int8`/,
    );
    const err = await fp32.infer({ n: 1, mel: new Float32Array(80 * 16), face: new Uint8Array(96 * 96 * 3) }).catch((e: unknown) => e);
    expect((err as GatewayError).code).toBe('MODEL_CONTRACT_MISMATCH');

    const int8 = backend(makeTinyModel(dir, 'good', 'int8'));
    await int8.start();
    expect(int8.readiness().ready).toBe(false);
    expect(int8.readiness().reason).toContain('is int8 but MODEL_PRECISION=fp32');
  });

  it('should serve a file without precision metadata (another exporter) as the precision it was told', async () => {
    const plain = makeTinyModel(dir, 'good');
    const asFp32 = backend(plain);
    const asInt8 = backend(plain, 'int8');
    await Promise.all([asFp32.start(), asInt8.start()]);
    expect(asFp32.readiness()).toMatchObject({ ready: true, precision: 'fp32' });
    expect(asInt8.readiness()).toMatchObject({ ready: true, precision: 'int8' });
  });

  it('should report fp16 for an FP16 export and accept it as a float model', async () => {
    const sut = backend(makeTinyModel(dir, 'good', 'fp16'), 'fp32');
    await sut.start();
    expect(sut.readiness()).toMatchObject({ ready: true, precision: 'fp16' });
  });
});
