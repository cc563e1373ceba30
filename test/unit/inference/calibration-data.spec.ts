import { CALIBRATION_PLAN, flipRgb, HOLDOUT_PLAN, pairInputs, scaleRgb, spread } from '../../../gateway/src/inference/calibration-data';
import { FACE_ELEMENTS, MEL_WINDOW_ELEMENTS } from '../../../gateway/src/inference/model-contract';

describe('calibration data (INT8)', () => {
  it('should spread indices evenly, first and last included', () => {
    expect(spread(10, 4)).toEqual([0, 3, 6, 9]);
    expect(spread(3, 5)).toEqual([0, 1, 1, 2, 2]);
    expect(spread(7, 1)).toEqual([0]);
    expect(spread(0, 3)).toEqual([]);
  });

  it('should mirror an RGB image left to right', () => {
    const img = { width: 2, height: 1, data: new Uint8Array([1, 2, 3, 4, 5, 6]) };
    expect(Array.from(flipRgb(img).data)).toEqual([4, 5, 6, 1, 2, 3]);
  });

  it('should scale the whole frame to even sizes', () => {
    const img = { width: 10, height: 6, data: new Uint8Array(10 * 6 * 3).fill(200) };
    const half = scaleRgb(img, 0.5);
    expect([half.width, half.height]).toEqual([6, 4]); // 5 → 6, 3 → 4 (even)
    expect(half.data.every((v) => v === 200)).toBe(true);
    expect(scaleRgb(img, 1)).toBe(img);
  });

  it('should pair windows spread over the speech with cycled face crops', () => {
    const windows = new Float32Array(5 * MEL_WINDOW_ELEMENTS).map((_, i) => Math.floor(i / MEL_WINDOW_ELEMENTS));
    const crops = [new Uint8Array(FACE_ELEMENTS).fill(10), new Uint8Array(FACE_ELEMENTS).fill(20)];
    const { mel, face } = pairInputs(windows, crops, 3);
    expect([mel[0], mel[MEL_WINDOW_ELEMENTS], mel[2 * MEL_WINDOW_ELEMENTS]]).toEqual([0, 2, 4]);
    expect([face[0], face[FACE_ELEMENTS], face[2 * FACE_ELEMENTS]]).toEqual([10, 20, 10]);
    expect(() => pairInputs(new Float32Array(0), crops, 2)).toThrow(RangeError);
    expect(() => pairInputs(windows, [], 2)).toThrow(RangeError);
  });

  it('should hold out other sentences and other face variants than it calibrates on', () => {
    const texts = new Set(CALIBRATION_PLAN.sentences.map((s) => s.text));
    expect(HOLDOUT_PLAN.sentences.some((s) => texts.has(s.text))).toBe(false);
    const key = (f: object) => JSON.stringify(f);
    const faces = new Set(CALIBRATION_PLAN.faces.map(key));
    expect(HOLDOUT_PLAN.faces.some((f) => faces.has(key(f)))).toBe(false);
  });
});
