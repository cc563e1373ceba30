import { GatewayError } from '../../../gateway/src/common/errors';
import {
  DEFAULT_PADS,
  fillTrack,
  keyFrames,
  largestFace,
  largestFirst,
  selectFace,
  smoothRuns,
  manualBox,
  padBox,
  smoothBoxes,
  snapBox,
  validatePads,
} from '../../../gateway/src/face/face-box';
import { face } from './face-fakes';

const b = (x1: number, y1: number, x2: number, y2: number) => ({ x1, y1, x2, y2 });

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof GatewayError ? err.code : 'not-a-gateway-error';
  }
  return undefined;
}

describe('face-box', () => {
  describe(manualBox.name, () => {
    it('should map top, bottom, left, right to x1, y1, x2, y2', () => {
      expect(manualBox([10, 90, 20, 80], 100, 100)).toEqual(b(20, 10, 80, 90));
    });
    it('should accept a box that touches the frame edges', () => {
      expect(manualBox([0, 100, 0, 64], 64, 100)).toEqual(b(0, 0, 64, 100));
    });
    it.each([
      [[-1, 50, 0, 50]],
      [[0, 101, 0, 50]],
      [[0, 50, 0, 65]],
      [[50, 40, 0, 50]],
      [[10, 11, 0, 50]],
      [[0, 50, 1.5, 50]],
      [[0, 50, 0]],
    ])('should reject %j with VALIDATION_FAILED on a 64x100 frame', (box) => {
      expect(codeOf(() => manualBox(box as never, 64, 100))).toBe('VALIDATION_FAILED');
    });
  });

  describe(padBox.name, () => {
    it('should add Wav2Lip default pads (10 px below) inside the frame', () => {
      expect(DEFAULT_PADS).toEqual([0, 10, 0, 0]);
      expect(padBox(b(181, 72, 265, 175), DEFAULT_PADS, 512, 512)).toEqual(b(181, 72, 265, 185));
    });
    it('should clamp every side to the frame', () => {
      expect(padBox(b(5, 3, 95, 92), [10, 20, 30, 40], 100, 100)).toEqual(b(0, 0, 100, 100));
      expect(padBox(b(20, 20, 60, 60), [5, 6, 7, 8], 100, 100)).toEqual(b(13, 15, 68, 66));
    });
    it('should reject pads that leave an empty box', () => {
      expect(codeOf(() => padBox(b(20, 20, 30, 30), [0, -10, 0, 0], 100, 100))).toBe('VALIDATION_FAILED');
    });
    it('should reject non-integer pads', () => {
      expect(codeOf(() => validatePads([0, 1.5, 0, 0]))).toBe('VALIDATION_FAILED');
      expect(validatePads([0, 20, 0, 0])).toEqual([0, 20, 0, 0]);
    });
  });

  it('snapBox should enclose a fractional detection', () => {
    expect(snapBox(b(181.1, 72.9, 264.4, 174.6))).toEqual(b(181, 72, 265, 175));
  });

  describe(largestFace.name, () => {
    it('should pick the face with the largest area, not the best score', () => {
      const small = face(0, 0, 10, 10, 0.99);
      const big = face(50, 50, 90, 95, 0.6);
      expect(largestFace([small, big, face(0, 0, 20, 20, 0.9)])).toBe(big);
    });
    it('should return undefined for no faces', () => {
      expect(largestFace([])).toBeUndefined();
    });
  });

  describe(smoothBoxes.name, () => {
    it('should average boxes i..i+4 and reuse the last window near the end', () => {
      const xs = [0, 10, 20, 30, 40, 50, 60];
      const out = smoothBoxes(xs.map((x) => b(x, 0, x + 10, 10)));
      // windows: [0..40]→20, [10..50]→30, [20..60]→40, then the last window [20..60]→40 for i = 3..6
      expect(out.map((o) => o.x1)).toEqual([20, 30, 40, 40, 40, 40, 40]);
      expect(out.map((o) => o.x2)).toEqual([30, 40, 50, 50, 50, 50, 50]);
    });
    it('should read the unsmoothed boxes in every window (no in-place drift)', () => {
      const ys = [0, 0, 0, 0, 0, 100];
      const out = smoothBoxes(ys.map((y) => b(0, y, 10, y + 10)));
      expect(out.map((o) => o.y1)).toEqual([0, 20, 20, 20, 20, 20]);
    });
    it('should average all boxes when there are fewer than 5 and keep one box as is', () => {
      expect(smoothBoxes([b(0, 0, 10, 10), b(3, 3, 13, 13)]).map((o) => o.x1)).toEqual([2, 2]);
      expect(smoothBoxes([b(1, 2, 3, 4)])).toEqual([b(1, 2, 3, 4)]);
    });
  });

  describe(keyFrames.name, () => {
    it('should take every stride-th frame plus the last', () => {
      expect(keyFrames(10, 3)).toEqual([0, 3, 6, 9]);
      expect(keyFrames(11, 3)).toEqual([0, 3, 6, 9, 10]);
      expect(keyFrames(4, 1)).toEqual([0, 1, 2, 3]);
      expect(keyFrames(1, 5)).toEqual([0]);
    });
  });

  describe(fillTrack.name, () => {
    it('should interpolate between key frames', () => {
      const out = fillTrack(5, [0, 4], [b(0, 0, 10, 10), b(40, 0, 50, 10)])!;
      expect(out.map((o) => o!.x1)).toEqual([0, 10, 20, 30, 40]);
    });
    it('should leave frames nearer a key frame without the face without a box (no borrowing)', () => {
      const out = fillTrack(4, [0, 1, 2, 3], [undefined, b(5, 5, 9, 9), undefined, b(7, 7, 11, 11)])!;
      expect(out).toEqual([undefined, b(5, 5, 9, 9), undefined, b(7, 7, 11, 11)]);
    });
    it('should split a stride between a face key frame and a faceless one at the midpoint', () => {
      const out = fillTrack(9, [0, 4, 8], [b(0, 0, 10, 10), undefined, undefined])!;
      expect(out.map((o) => o?.x1)).toEqual([0, 0, 0, undefined, undefined, undefined, undefined, undefined, undefined]);
    });
    it('should return undefined when no key frame has a face', () => {
      expect(fillTrack(3, [0, 2], [undefined, undefined])).toBeUndefined();
    });
  });

  describe(smoothRuns.name, () => {
    it('should smooth each run of boxes on its own and keep the gaps', () => {
      const out = smoothRuns([b(0, 0, 10, 10), b(10, 0, 20, 10), undefined, b(100, 0, 110, 10)]);
      expect(out).toEqual([b(5, 0, 15, 10), b(5, 0, 15, 10), undefined, b(100, 0, 110, 10)]);
    });
  });

  describe('face selection', () => {
    const faces = largestFirst([
      { box: b(0, 0, 10, 10), score: 0.9 },
      { box: b(100, 100, 200, 200), score: 0.6 },
      { box: b(50, 0, 80, 30), score: 0.8 },
    ]);
    it('should order faces largest first', () => {
      expect(faces.map((f) => f.box.x1)).toEqual([100, 50, 0]);
    });
    it('should default to the largest, or take faceIndex / the face at facePoint', () => {
      expect(selectFace(faces, {})).toBe(0);
      expect(selectFace(faces, { faceIndex: 2 })).toBe(2);
      expect(selectFace(faces, { facePoint: [60, 10] })).toBe(1);
    });
    it('should refuse an index or a point that matches no face with NO_FACE_FOUND', () => {
      expect(() => selectFace(faces, { faceIndex: 3 })).toThrow(expect.objectContaining({ code: 'NO_FACE_FOUND' }));
      expect(() => selectFace(faces, { facePoint: [90, 50] })).toThrow(/no face found at facePoint 90,50/);
    });
  });
});
