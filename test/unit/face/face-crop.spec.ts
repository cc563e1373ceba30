import { cropFace, cropToEven } from '../../../gateway/src/face/face-crop';
import { gradientImage } from './face-fakes';

describe('face-crop', () => {
  describe(cropFace.name, () => {
    it('should return a 96x96 RGB crop of exactly the box region', () => {
      // a 200x150 black frame with a pure red rectangle exactly where the box is
      const W = 200;
      const frame = new Uint8Array(W * 150 * 3);
      const box = { x1: 40, y1: 30, x2: 130, y2: 140 };
      for (let y = box.y1; y < box.y2; y++) for (let x = box.x1; x < box.x2; x++) frame[(y * W + x) * 3] = 255;
      const crop = cropFace(frame, W, box);
      expect(crop.length).toBe(96 * 96 * 3);
      for (let i = 0; i < crop.length; i += 3) {
        expect([crop[i], crop[i + 1], crop[i + 2]]).toEqual([255, 0, 0]);
      }
    });

    it('should resample a horizontal ramp linearly (half-pixel centres)', () => {
      // box 48 px wide → 96: target column d samples source x = (d + 0.5) / 2 − 0.5, clamped
      const img = gradientImage(100, 100);
      const crop = cropFace(img.data, 100, { x1: 10, y1: 20, x2: 58, y2: 68 });
      const red = (d: number) => crop[(50 * 96 + d) * 3];
      expect(red(0)).toBe(10); // clamped at the left edge
      expect(red(1)).toBe(10); // source x 0.25 → 10.25
      expect(red(2)).toBe(11); // 0.75 → 10.75
      expect(red(50)).toBe(Math.round(10 + (50.5 / 2 - 0.5)));
      expect(red(95)).toBe(57); // clamped at the right edge
    });
  });

  describe(cropToEven.name, () => {
    it('should drop the odd last row and column and keep the rest byte for byte', () => {
      const img = gradientImage(7, 5);
      const even = cropToEven(img);
      expect([even.width, even.height]).toEqual([6, 4]);
      for (let y = 0; y < 4; y++) {
        for (let x = 0; x < 6; x++) {
          expect(even.data[(y * 6 + x) * 3]).toBe(x);
          expect(even.data[(y * 6 + x) * 3 + 1]).toBe(y);
        }
      }
    });
    it('should return an even image unchanged', () => {
      const img = gradientImage(8, 6);
      expect(cropToEven(img)).toBe(img);
    });
  });
});
