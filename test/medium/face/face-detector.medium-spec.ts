import { promises as fs } from 'fs';
import * as path from 'path';
import { GatewayError } from '../../../gateway/src/common/errors';
import { FaceApiDetector } from '../../../gateway/src/face/face-detector';
import type { DetectedFace, FaceBox } from '../../../gateway/src/face/face.types';
import { ImageAdapter } from '../../../gateway/src/face/image.adapter';
import type { RgbImage } from '../../../gateway/src/face/face-crop';

const FIXTURE = path.resolve(__dirname, '../../fixtures/faces/astronaut.png');
/** the face in the fixture, roughly (preamble): x 181–264, y 72–173 */
const FACE: FaceBox = { x1: 181, y1: 72, x2: 264, y2: 173 };

const area = (b: FaceBox) => Math.max(0, b.x2 - b.x1) * Math.max(0, b.y2 - b.y1);
const overlap = (a: FaceBox, b: FaceBox) =>
  area({ x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1), x2: Math.min(a.x2, b.x2), y2: Math.min(a.y2, b.y2) });
/** intersection over union */
const iou = (a: FaceBox, b: FaceBox) => overlap(a, b) / (area(a) + area(b) - overlap(a, b));

function mirror(img: RgbImage): Uint8Array {
  const out = new Uint8Array(img.data.length);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const src = (y * img.width + x) * 3;
      const dst = (y * img.width + (img.width - 1 - x)) * 3;
      out.set(img.data.subarray(src, src + 3), dst);
    }
  }
  return out;
}

function expectOneFaceIn(faces: DetectedFace[], region: FaceBox): void {
  expect(faces).toHaveLength(1);
  expect(faces[0].score).toBeGreaterThan(0.5);
  expect(iou(faces[0].box, region)).toBeGreaterThan(0.5);
}

describe('FaceApiDetector (real face-api in a worker thread)', () => {
  let img: RgbImage;
  let sut: FaceApiDetector;
  const mirroredFace: FaceBox = { x1: 512 - FACE.x2, y1: FACE.y1, x2: 512 - FACE.x1, y2: FACE.y2 };

  beforeAll(async () => {
    img = await new ImageAdapter().decode(await fs.readFile(FIXTURE), 4096 * 4096);
    sut = new FaceApiDetector();
    await sut.warmUp();
  });
  afterAll(() => sut.close());

  it('should find the astronaut face in its known region', async () => {
    expect([img.width, img.height]).toEqual([512, 512]);
    expectOneFaceIn(await sut.detect(img.data, img.width, img.height), FACE);
  });

  it('should keep the event loop ticking while a detection runs', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      const faces = await sut.detect(img.data, img.width, img.height);
      expect(faces).toHaveLength(1);
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(0);
  });

  it('should answer two concurrent detections each with its own faces', async () => {
    const flipped = mirror(img);
    const [a, b] = await Promise.all([sut.detect(img.data, 512, 512), sut.detect(flipped, 512, 512)]);
    expectOneFaceIn(a, FACE);
    expectOneFaceIn(b, mirroredFace);
  });

  it('should leave the caller its frame (the worker gets a copy)', async () => {
    const before = Buffer.from(img.data);
    await sut.detect(img.data, img.width, img.height);
    expect(img.data.byteLength).toBe(512 * 512 * 3);
    expect(Buffer.compare(Buffer.from(img.data), before)).toBe(0);
  });

  it('should return an empty array when there is no face', async () => {
    const grey = new Uint8Array(320 * 240 * 3).fill(128);
    expect(await sut.detect(grey, 320, 240)).toEqual([]);
  });

  it('should fail pending detections on close and start a new worker on the next detect', async () => {
    const pending = sut.detect(img.data, img.width, img.height).catch((e: unknown) => e);
    await sut.close();
    expect(await pending).toMatchObject({ name: 'GatewayError', code: 'BACKEND_UNAVAILABLE' });
    expectOneFaceIn(await sut.detect(img.data, img.width, img.height), FACE);
  });

  it('should reject with a GatewayError when the worker dies mid-detection, then recover', async () => {
    const pending = sut.detect(img.data, img.width, img.height).catch((e: unknown) => e);
    // stands in for a crash; the wasm backend runs inside V8, so terminating it is safe (unlike a native addon)
    const worker = (sut as unknown as { worker: { terminate(): Promise<number> } }).worker;
    await worker.terminate();
    const err = await pending;
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ code: 'INTERNAL' });
    expectOneFaceIn(await sut.detect(img.data, img.width, img.height), FACE);
  });
});
