import { GatewayError } from '../../../gateway/src/common/errors';
import { checkContract, FACE_ELEMENTS, MEL_WINDOW_ELEMENTS } from '../../../gateway/src/inference/model-contract';
import type { ModelInferResponse } from '../../../gateway/src/inference/triton/triton-proto';
import {
  buildInferRequest,
  extractMouth,
  float32ToLeBytes,
  signatureFromMetadata,
} from '../../../gateway/src/inference/triton/triton-tensors';

const batch = (n: number) => ({
  n,
  mel: Float32Array.from({ length: n * MEL_WINDOW_ELEMENTS }, (_, i) => i * 0.25 - 3),
  face: Uint8Array.from({ length: n * FACE_ELEMENTS }, (_, i) => i % 251),
});

const response = (n: number, over: Partial<ModelInferResponse> = {}): ModelInferResponse => ({
  model_name: 'wav2lip',
  model_version: '1',
  id: 'r1',
  outputs: [{ name: 'mouth', datatype: 'UINT8', shape: [String(n), '96', '96', '3'] }],
  raw_output_contents: [Buffer.alloc(n * FACE_ELEMENTS, 7)],
  ...over,
});

const failure = (fn: () => unknown): GatewayError => {
  try {
    fn();
  } catch (e) {
    return e as GatewayError;
  }
  throw new Error('expected a throw');
};

describe('triton-tensors', () => {
  it('should write FP32 as little-endian bytes on either host byte order', () => {
    const values = Float32Array.from([1.5, -2, 3.25e-3]);
    for (const le of [true, false]) {
      const bytes = float32ToLeBytes(values, le);
      expect(bytes.length).toBe(12);
      expect([0, 1, 2].map((i) => bytes.readFloatLE(i * 4))).toEqual(Array.from(values));
    }
  });

  it('should build a request with both inputs as raw contents in inputs order, with full shapes', () => {
    const b = batch(2);
    const req = buildInferRequest('wav2lip', b, 'id-1');
    expect(req.model_name).toBe('wav2lip');
    expect(req.inputs).toEqual([
      { name: 'mel', datatype: 'FP32', shape: [2, 1, 80, 16] },
      { name: 'face', datatype: 'UINT8', shape: [2, 96, 96, 3] },
    ]);
    expect(req.outputs).toEqual([{ name: 'mouth' }]);
    const [mel, face] = req.raw_input_contents;
    expect(mel.length).toBe(2 * MEL_WINDOW_ELEMENTS * 4);
    expect(mel.readFloatLE(4 * 1000)).toBe(b.mel[1000]);
    expect(face.equals(Buffer.from(b.face))).toBe(true);
  });

  it('should refuse a batch whose arrays do not match n', () => {
    const b = { ...batch(2), n: 3 };
    const err = failure(() => buildInferRequest('wav2lip', b, 'x'));
    expect(err.code).toBe('INFERENCE_FAILED');
    expect(err.message).toMatch(/batch of 3 frames needs 3840 mel floats, got 2560/);
  });

  it('should find the mouth output by name even when it is not first', () => {
    const mouth = Buffer.alloc(FACE_ELEMENTS, 9);
    const res = response(1, {
      outputs: [
        { name: 'extra', datatype: 'FP32', shape: ['1'] },
        { name: 'mouth', datatype: 'UINT8', shape: ['1', '96', '96', '3'] },
      ],
      raw_output_contents: [Buffer.alloc(4), mouth],
    });
    const out = extractMouth(res, 1);
    expect(out.length).toBe(FACE_ELEMENTS);
    expect(out[0]).toBe(9);
  });

  it.each([
    ['a missing output', { outputs: [], raw_output_contents: [] }, /has no output 'mouth' \(outputs: none\)/],
    ['a wrong datatype', { outputs: [{ name: 'mouth', datatype: 'FP32', shape: ['2', '96', '96', '3'] }] }, /is FP32, expected UINT8/],
    [
      'a wrong shape',
      { outputs: [{ name: 'mouth', datatype: 'UINT8', shape: ['2', '96', '96'] }] },
      /shape \[2,96,96\], expected \[2,96,96,3\]/,
    ],
    ['too few bytes', { raw_output_contents: [Buffer.alloc(10)] }, /has 10 raw bytes, expected 55296 for 2 frames/],
    ['no raw entry', { raw_output_contents: [] }, /has no raw bytes/],
  ])('should fail with INFERENCE_FAILED on %s', (_label, over, message) => {
    const err = failure(() => extractMouth(response(2, over), 2));
    expect(err.code).toBe('INFERENCE_FAILED');
    expect(err.message).toMatch(message);
  });

  it('should turn string int64 dims into numbers that checkContract accepts', () => {
    const sig = signatureFromMetadata({
      name: 'wav2lip',
      versions: ['1'],
      platform: 'tensorrt_plan',
      inputs: [
        { name: 'mel', datatype: 'FP32', shape: ['-1', '1', '80', '16'] },
        { name: 'face', datatype: 'UINT8', shape: ['-1', '96', '96', '3'] },
      ],
      outputs: [{ name: 'mouth', datatype: 'UINT8', shape: ['-1', '96', '96', '3'] }],
    });
    expect(sig.inputs[0].shape).toEqual([-1, 1, 80, 16]);
    expect(checkContract(sig)).toEqual([]);
  });
});
