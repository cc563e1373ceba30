import { FaceDetector } from '../../../gateway/src/face/face-detector';
import type { DetectedFace } from '../../../gateway/src/face/face.types';
import { ImageAdapter } from '../../../gateway/src/face/image.adapter';
import type { RgbImage } from '../../../gateway/src/face/face-crop';

/**
 * Strict fake detector: answers from a queue of scripted results (one per call) or a function;
 * a call nobody scripted fails the test.
 */
export class FakeFaceDetector extends FaceDetector {
  readonly id = 'fake-detector';
  readonly calls: { width: number; height: number; firstByte: number }[] = [];
  private readonly queue: DetectedFace[][] = [];
  private fn?: (rgb: Uint8Array, width: number, height: number, call: number) => DetectedFace[];

  answer(...results: DetectedFace[][]): this {
    this.queue.push(...results);
    return this;
  }

  answerWith(fn: (rgb: Uint8Array, width: number, height: number, call: number) => DetectedFace[]): this {
    this.fn = fn;
    return this;
  }

  async detect(rgb: Uint8Array, width: number, height: number): Promise<DetectedFace[]> {
    this.calls.push({ width, height, firstByte: rgb[0] });
    if (this.fn) return this.fn(rgb, width, height, this.calls.length - 1);
    const next = this.queue.shift();
    if (!next) throw new Error('FakeFaceDetector: unexpected detect() call');
    return next;
  }
}

/** Strict fake image adapter: decodes only the byte strings it was given. */
export class FakeImageAdapter extends ImageAdapter {
  private readonly images = new Map<string, RgbImage>();
  decodeCalls = 0;

  register(bytes: Buffer, img: RgbImage): this {
    this.images.set(bytes.toString('base64'), img);
    return this;
  }

  async decode(input: Buffer): Promise<RgbImage> {
    this.decodeCalls++;
    const img = this.images.get(input.toString('base64'));
    if (!img) throw new Error('FakeImageAdapter: unexpected decode()');
    return { ...img, data: img.data.slice() };
  }

  encodePng(): Promise<Buffer> {
    throw new Error('FakeImageAdapter: unexpected encodePng()');
  }
}

export const face = (x1: number, y1: number, x2: number, y2: number, score = 0.9): DetectedFace => ({
  box: { x1, y1, x2, y2 },
  score,
});

/** A fake "PNG": the real signature followed by a tag, so sniffing sees a PNG. */
export const pngBytes = (tag: string): Buffer =>
  Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from(tag)]);

/** RGB24 image where pixel (x, y) = (x mod 256, y mod 256, seed). */
export function gradientImage(width: number, height: number, seed = 7): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      data[o] = x & 255;
      data[o + 1] = y & 255;
      data[o + 2] = seed;
    }
  }
  return { data, width, height };
}
