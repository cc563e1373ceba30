import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AvatarService } from '../../../gateway/src/face/avatar.service';
import { blendMask } from '../../../gateway/src/face/blend-mask';
import { FfmpegRunner } from '../../../gateway/src/media/ffmpeg-runner';
import { face, FakeFaceDetector, FakeImageAdapter, gradientImage, pngBytes } from './face-fakes';

/** Strict: image avatars must never reach ffmpeg. */
class NoFfmpeg extends FfmpegRunner {
  run(): never {
    throw new Error('unexpected ffmpeg run');
  }
  probe(): never {
    throw new Error('unexpected ffprobe run');
  }
}

describe(AvatarService.name, () => {
  let dir: string;
  let images: FakeImageAdapter;
  let detector: FakeFaceDetector;
  const opts = () => ({ cacheDir: path.join(dir, 'cache'), maxImagePixels: 1_000_000, maxVideoSeconds: 10 });
  const newSut = () => new AvatarService(new NoFfmpeg(), images, detector, opts());

  async function writeAvatar(name: string, tag: string, w: number, h: number) {
    const bytes = pngBytes(tag);
    images.register(bytes, gradientImage(w, h));
    const file = path.join(dir, name);
    await fs.writeFile(file, bytes);
    return file;
  }

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'avatar-spec-'));
    images = new FakeImageAdapter();
    detector = new FakeFaceDetector();
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  it('should purge every trace of a face on forgetContent: memory entries under any options and box records on disk (issue 10, item 5)', async () => {
    const file = await writeAvatar('p.png', 'p', 200, 150);
    const other = await writeAvatar('q.png', 'q', 200, 150);
    detector.answerWith(() => [face(40, 30, 120, 120)]);
    const sut = newSut();
    await sut.prepare(file);
    await sut.prepare(file, { pads: [0, 0, 0, 0] });
    await sut.prepare(other);
    expect((await sut.prepare(file)).source).toBe('memory');
    const records = () => fs.readdir(path.join(dir, 'cache'));
    expect(await records()).toHaveLength(3);
    const { createHash } = await import('crypto');
    const hash = createHash('sha256')
      .update(await fs.readFile(file))
      .digest('hex');
    await sut.forgetContent(hash);
    expect(await records()).toHaveLength(1); // only the other face's record is left
    expect((await sut.prepare(other)).source).toBe('memory');
    const again = await sut.prepare(file);
    expect(again.source).toBe('detected'); // neither memory nor disk knew it any more
  });

  it('should drop box records older than the avatar TTL', async () => {
    const file = await writeAvatar('t.png', 't', 200, 150);
    detector.answerWith(() => [face(40, 30, 120, 120)]);
    const sut = newSut();
    await sut.prepare(file);
    expect(await sut.sweepRecords(60_000)).toBe(0);
    expect(await sut.sweepRecords(60_000, Date.now() + 61_000)).toBe(1);
    expect(await fs.readdir(path.join(dir, 'cache'))).toEqual([]);
    expect((await sut.prepare(file)).source).toBe('detected');
  });

  it('should crop odd sizes to even, pad the detected box and expose crop and mask', async () => {
    const file = await writeAvatar('a.png', 'a', 201, 151);
    detector.answer([face(40, 30, 120, 120)]);
    const a = await newSut().prepare(file);
    expect([a.width, a.height, a.frameCount, a.isVideo]).toEqual([200, 150, 1, false]);
    expect(a.frame(0).length).toBe(200 * 150 * 3);
    // default pad: a tenth of the 90 px box height below it
    expect(a.box(0)).toEqual({ x1: 40, y1: 30, x2: 120, y2: 129 });
    expect(a.hasFace(0)).toBe(true);
    expect(a.face).toMatchObject({ selected: 0, method: 'detector', box: { x1: 40, y1: 30, x2: 120, y2: 120 } });
    expect(a.crop(0).length).toBe(96 * 96 * 3);
    expect(a.crop(0)[0]).toBe(40); // red = x of the box's top-left pixel in the gradient
    expect(a.mask(0)).toBe(blendMask(80, 99));
    expect(a.cached).toBe(false);
    expect(a.source).toBe('detected');
    expect(detector.calls).toEqual([{ width: 200, height: 150, firstByte: 0 }]);
    expect(() => a.frame(1)).toThrow(RangeError);
  });

  it('should keep only the most recently used avatars in memory, bounded by count and by decoded bytes', async () => {
    const a = await writeAvatar('a.png', 'a', 100, 100);
    const b = await writeAvatar('b.png', 'b', 100, 100);
    detector.answer([face(10, 10, 60, 60)]);
    detector.answer([face(10, 10, 60, 60)]);
    const byCount = new AvatarService(new NoFfmpeg(), images, detector, { ...opts(), memoryEntries: 1 });
    await byCount.prepare(a);
    await byCount.prepare(b);
    expect((await byCount.prepare(b)).source).toBe('memory');
    expect((await byCount.prepare(a)).source).toBe('disk'); // evicted by b, read back from its JSON
    // one 100x100 RGB frame is 30 000 bytes: a budget below that keeps nothing in memory
    const bySize = new AvatarService(new NoFfmpeg(), images, detector, { ...opts(), memoryBytes: 29_999 });
    await bySize.prepare(a);
    expect((await bySize.prepare(a)).source).toBe('disk');
  });

  it('should serve a second prepare from memory without detection or decoding', async () => {
    const file = await writeAvatar('a.png', 'a', 100, 100);
    detector.answer([face(10, 10, 60, 60)]);
    const sut = newSut();
    const first = await sut.prepare(file);
    const second = await sut.prepare(file);
    expect(second.cached).toBe(true);
    expect(second.source).toBe('memory');
    expect(second.timings.detect).toBe(0);
    expect(second.key).toBe(first.key);
    expect(detector.calls).toHaveLength(1);
    expect(images.decodeCalls).toBe(1);
  });

  it('should key the cache on content and options, not on the file name', async () => {
    const a = await writeAvatar('a.png', 'same', 100, 100);
    const b = path.join(dir, 'copy-named.txt');
    await fs.copyFile(a, b);
    detector.answer([face(10, 10, 60, 60)], [face(10, 10, 60, 60)]);
    const sut = newSut();
    const first = await sut.prepare(a);
    expect((await sut.prepare(b)).cached).toBe(true);
    const padded = await sut.prepare(a, { pads: [0, 20, 0, 0] });
    expect(padded.cached).toBe(false);
    expect(padded.key).not.toBe(first.key);
    expect(padded.box(0).y2).toBe(80);
  });

  it('should key the cache on the face selection too, and report every face largest first', async () => {
    const a = await writeAvatar('two.png', 'two', 200, 100);
    const two = [face(10, 10, 50, 50, 0.95), face(100, 10, 180, 90, 0.8)];
    detector.answer(two, two);
    const sut = newSut();
    const byDefault = await sut.prepare(a);
    expect(byDefault.face.faces.map((f) => f.box.x1)).toEqual([100, 10]);
    expect(byDefault.box(0).x1).toBe(100);
    const other = await sut.prepare(a, { facePoint: [20, 20] });
    expect(other.cached).toBe(false);
    expect(other.key).not.toBe(byDefault.key);
    expect(other.face.selected).toBe(1);
    expect(other.box(0).x1).toBe(10);
    expect((await sut.prepare(a, { facePoint: [20, 20] })).cached).toBe(true);
    expect(detector.calls).toHaveLength(2);
  });

  it('should reuse the disk record in a new instance (restart): decode again, detect never', async () => {
    const file = await writeAvatar('a.png', 'a', 100, 100);
    detector.answer([face(10, 10, 60, 60)]);
    const first = await newSut().prepare(file);
    const again = await newSut().prepare(file);
    expect(again.source).toBe('disk');
    expect(again.cached).toBe(true);
    expect(again.box(0)).toEqual(first.box(0));
    expect(again.face).toEqual(first.face);
    expect(detector.calls).toHaveLength(1);
    expect(images.decodeCalls).toBe(2);
  });

  it('should use a manual box as given: no detection, no pads, validated against the size', async () => {
    const file = await writeAvatar('a.png', 'a', 100, 80);
    const sut = newSut();
    const a = await sut.prepare(file, { box: [5, 70, 10, 90], pads: [0, 10, 0, 0] });
    expect(a.box(0)).toEqual({ x1: 10, y1: 5, x2: 90, y2: 70 });
    expect(a.source).toBe('manual');
    await expect(sut.prepare(file, { box: [5, 81, 10, 90] })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(detector.calls).toHaveLength(0);
  });

  it('should report NO_FACE_FOUND and cache nothing', async () => {
    const file = await writeAvatar('a.png', 'a', 100, 100);
    detector.answer([], [face(10, 10, 60, 60)]);
    const sut = newSut();
    await expect(sut.prepare(file)).rejects.toMatchObject({ code: 'NO_FACE_FOUND' });
    expect((await sut.prepare(file)).source).toBe('detected');
  });

  it('should refuse content that is neither image nor video, whatever its name', async () => {
    const file = path.join(dir, 'face.png');
    await fs.writeFile(file, 'just some text, not a picture');
    await expect(newSut().prepare(file)).rejects.toMatchObject({ code: 'UNSUPPORTED_MEDIA' });
    await expect(newSut().prepareBuffer(Buffer.from('GIF89a....'))).rejects.toMatchObject({ code: 'UNSUPPORTED_MEDIA' });
  });

  it('should prepare image bytes with prepareBuffer and share the cache with prepare', async () => {
    const file = await writeAvatar('a.png', 'buf', 100, 100);
    detector.answer([face(10, 10, 60, 60)]);
    const sut = newSut();
    const a = await sut.prepareBuffer(await fs.readFile(file));
    expect(a.source).toBe('detected');
    expect((await sut.prepare(file)).source).toBe('memory');
  });

  it('should run one detection for concurrent prepares of the same avatar', async () => {
    const file = await writeAvatar('a.png', 'a', 100, 100);
    detector.answer([face(10, 10, 60, 60)]);
    const sut = newSut();
    const [x, y] = await Promise.all([sut.prepare(file), sut.prepare(file)]);
    expect(x.key).toBe(y.key);
    expect(detector.calls).toHaveLength(1);
  });
  it('should not fail a second caller when the first caller cancels the shared preparation', async () => {
    const file = await writeAvatar('a.png', 'a', 100, 100);
    const ac = new AbortController();
    detector.answerWith((_rgb, _w, _h, call) => {
      if (call === 0) ac.abort();
      return [face(10, 10, 60, 60)];
    });
    const sut = newSut();
    const [first, second] = await Promise.allSettled([sut.prepare(file, { signal: ac.signal }), sut.prepare(file)]);
    expect(first).toMatchObject({ status: 'rejected', reason: { code: 'CANCELLED' } });
    expect(second).toMatchObject({ status: 'fulfilled', value: { source: 'detected' } });
  });
});
