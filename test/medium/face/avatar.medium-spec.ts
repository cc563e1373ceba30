import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AvatarService } from '../../../gateway/src/face/avatar.service';
import { FaceApiDetector } from '../../../gateway/src/face/face-detector';
import type { DetectedFace, FaceBox } from '../../../gateway/src/face/face.types';
import { ImageAdapter } from '../../../gateway/src/face/image.adapter';
import { FfmpegRunner } from '../../../gateway/src/media/ffmpeg-runner';

const FIXTURE = path.resolve(__dirname, '../../fixtures/faces/astronaut.png');
/** the face in the fixture, roughly (preamble): x 181–264, y 72–173 */
const FACE: FaceBox = { x1: 181, y1: 72, x2: 264, y2: 173 };

/** The real detector, recording what it was asked and what it found. */
class RecordingDetector extends FaceApiDetector {
  readonly found: DetectedFace[][] = [];
  async detect(rgb: Uint8Array, width: number, height: number): Promise<DetectedFace[]> {
    const faces = await super.detect(rgb, width, height);
    this.found.push(faces);
    return faces;
  }
}

const area = (b: FaceBox) => Math.max(0, b.x2 - b.x1) * Math.max(0, b.y2 - b.y1);
const intersection = (a: FaceBox, b: FaceBox): FaceBox => ({
  x1: Math.max(a.x1, b.x1),
  y1: Math.max(a.y1, b.y1),
  x2: Math.min(a.x2, b.x2),
  y2: Math.min(a.y2, b.y2),
});
/** share of the expected face region covered by the box */
const coverage = (box: FaceBox, expected: FaceBox) => area(intersection(box, expected)) / area(expected);

describe('AvatarService (real sharp, face-api, ffmpeg)', () => {
  let dir: string;
  let detector: RecordingDetector;
  const runner = new FfmpegRunner();
  const images = new ImageAdapter();
  const newSut = (d = detector) =>
    new AvatarService(runner, images, d, { cacheDir: path.join(dir, 'cache'), maxImagePixels: 4096 * 4096, maxVideoSeconds: 5 });

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'avatar-medium-'));
  });
  beforeEach(() => {
    detector = new RecordingDetector();
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it('should find the astronaut face, pad it, and serve the second prepare from memory', async () => {
    const sut = newSut();
    const a = await sut.prepare(FIXTURE);
    expect([a.width, a.height, a.frameCount, a.isVideo, a.cached]).toEqual([512, 512, 1, false, false]);
    const box = a.box(0);
    expect(coverage(box, FACE)).toBeGreaterThan(0.8);
    expect(area(box)).toBeLessThan(area(FACE) * 2);
    expect(box.y2).toBeGreaterThanOrEqual(FACE.y2); // the 10 px bottom pad reaches the chin
    expect(a.timings.detect).toBeGreaterThan(0);
    expect(a.crop(0).length).toBe(96 * 96 * 3);

    const again = await sut.prepare(FIXTURE);
    expect(again.cached).toBe(true);
    expect(again.timings.detect).toBe(0);
    expect(again.box(0)).toEqual(box);
    expect(detector.found).toHaveLength(1);
  });

  it('should keep the boxes on disk across a new service instance (restart)', async () => {
    const first = await newSut().prepare(FIXTURE, { pads: [0, 12, 0, 0] });
    const fresh = new RecordingDetector();
    const again = await newSut(fresh).prepare(FIXTURE, { pads: [0, 12, 0, 0] });
    expect(again.source).toBe('disk');
    expect(again.box(0)).toEqual(first.box(0));
    expect(fresh.found).toHaveLength(0);
    expect(Buffer.from(again.frame(0)).equals(Buffer.from(first.frame(0)))).toBe(true);
  });

  it('should find an off-centre face in a wide 16:9 image', async () => {
    const src = await images.decode(await fs.readFile(FIXTURE), 1 << 24);
    const W = 1280;
    const H = 720;
    const ox = 700;
    const oy = 150;
    const wide = new Uint8Array(W * H * 3).fill(90);
    for (let y = 0; y < src.height; y++) {
      wide.set(src.data.subarray(y * src.width * 3, (y + 1) * src.width * 3), ((oy + y) * W + ox) * 3);
    }
    const file = path.join(dir, 'wide.jpg');
    await fs.writeFile(file, await images.encodeJpeg(wide, W, H));
    const a = await newSut().prepare(file);
    expect([a.width, a.height]).toEqual([W, H]);
    const expected = { x1: FACE.x1 + ox, y1: FACE.y1 + oy, x2: FACE.x2 + ox, y2: FACE.y2 + oy };
    expect(coverage(a.box(0), expected)).toBeGreaterThan(0.8);
  });

  it('should report NO_FACE_FOUND for a flat colour image', async () => {
    const file = path.join(dir, 'flat.png');
    await fs.writeFile(file, await images.encodePng(new Uint8Array(320 * 240 * 3).fill(128), 320, 240));
    await expect(newSut().prepare(file)).rejects.toMatchObject({ code: 'NO_FACE_FOUND' });
  });

  it('should refuse a text file as UNSUPPORTED_MEDIA and a truncated PNG as IMAGE_UNDECODABLE', async () => {
    const text = path.join(dir, 'notes.png');
    await fs.writeFile(text, 'this is not an image\n'.repeat(20));
    await expect(newSut().prepare(text)).rejects.toMatchObject({ code: 'UNSUPPORTED_MEDIA' });
    const broken = path.join(dir, 'broken.png');
    await fs.writeFile(broken, (await fs.readFile(FIXTURE)).subarray(0, 200));
    await expect(newSut().prepare(broken)).rejects.toMatchObject({ code: 'IMAGE_UNDECODABLE' });
  });

  it('should refuse an image over the pixel limit with IMAGE_TOO_LARGE', async () => {
    const sut = new AvatarService(runner, images, detector, {
      cacheDir: path.join(dir, 'cache'),
      maxImagePixels: 500 * 500,
      maxVideoSeconds: 5,
    });
    await expect(sut.prepare(FIXTURE)).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE' });
    expect(detector.found).toHaveLength(0);
  });

  it('should track the face through a short panning video with 5-frame smoothing', async () => {
    // 2 s at 8 fps (16 frames, each detected): a 384 px window slides right/down over the fixture, scaled to 256 (×2/3)
    const FPS = 8;
    const N = 16;
    const video = path.join(dir, 'pan.mp4');
    await runner.run([
      '-v',
      'error',
      '-y',
      '-loop',
      '1',
      '-i',
      FIXTURE,
      '-t',
      '2',
      '-r',
      String(FPS),
      '-vf',
      "crop=384:384:'t*40':'t*20',scale=256:256",
      '-pix_fmt',
      'yuv420p',
      '-c:v',
      'libx264',
      video,
    ]);
    const a = await newSut().prepare(video);
    expect([a.isVideo, a.frameCount, a.fps, a.width, a.height]).toEqual([true, N, FPS, 256, 256]);
    expect(detector.found).toHaveLength(N);
    for (let i = 0; i < N; i++) {
      const t = i / FPS;
      const s = 256 / 384;
      const expected = {
        x1: (FACE.x1 - 40 * t) * s,
        y1: (FACE.y1 - 20 * t) * s,
        x2: (FACE.x2 - 40 * t) * s,
        y2: (FACE.y2 - 20 * t) * s,
      };
      expect(coverage(a.box(i), expected)).toBeGreaterThan(0.7);
    }
    // smoothing: each box is the mean of the unsmoothed (landmark, padded) boxes i..i+4 (last 5 at the end), rounded
    const unsmoothed = await newSut().prepare(video, { smooth: false });
    expect(unsmoothed.face.method).toBe('landmarks');
    const raw = Array.from({ length: N }, (_, i) => {
      const b = unsmoothed.box(i);
      return [b.x1, b.y1, b.x2, b.y2];
    });
    for (let i = 0; i < N; i++) {
      const start = Math.min(i, N - 5);
      const mean = [0, 1, 2, 3].map((k) => Math.round(raw.slice(start, start + 5).reduce((s, r) => s + r[k], 0) / 5));
      const b = a.box(i);
      expect([b.x1, b.y1, b.x2, b.y2]).toEqual(mean);
    }
    // the x1 of the boxes moves left as the window pans right
    expect(a.box(N - 1).x1).toBeLessThan(a.box(0).x1);

    const fresh = new RecordingDetector();
    const again = await newSut(fresh).prepare(video);
    expect([again.source, again.frameCount, fresh.found.length]).toEqual(['disk', N, 0]);
  });
});
