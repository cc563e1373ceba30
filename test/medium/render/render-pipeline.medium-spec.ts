import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { loadConfig } from '../../../gateway/src/config/config';
import { CoreServices, createCoreServices } from '../../../gateway/src/core-services';
import { GatewayError } from '../../../gateway/src/common/errors';
import { ASTRONAUT, decodeFrames, ffprobe, makeSpeech, meanAbsDiff, runFfmpeg } from '../../helpers/media';

/**
 * The product's main job on the embedded default: real ffmpeg, sharp, face-api and onnxruntime
 * with the demo model. One 3 s render, then the bad inputs.
 */
describe('RenderPipeline (onnx demo model)', () => {
  let work: string;
  let sut: CoreServices;
  let speech: string;

  beforeAll(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'render-medium-'));
    sut = await createCoreServices(loadConfig({ DATA_DIR: path.join(work, 'data'), BATCH_SIZE: '16' }));
    speech = path.join(work, 'speech.wav');
    await makeSpeech(speech, 3);
  });

  afterAll(async () => {
    await sut?.close();
    await fs.rm(work, { recursive: true, force: true });
  });

  const outFiles = async () => (await fs.readdir(work)).filter((f) => f.endsWith('.mp4'));

  it('should render 3 s of speech into an H.264 MP4 with audio, the avatar size, 25 fps and the audio duration', async () => {
    const out = path.join(work, 'ok.mp4');
    const progress: number[] = [];
    const r = await sut.renderer.render(
      { facePath: ASTRONAUT, audioPath: speech, outPath: out },
      { onProgress: (p) => progress.push(p.framesDone) },
    );

    const frames = Math.ceil((241 * 25) / 80); // T = 1 + 48000/200 = 241 mel frames → 76 frames cover the audio
    expect(r.frames).toBe(frames);
    expect(progress[progress.length - 1]).toBe(frames);
    expect(r.batchSizes.reduce((a, b) => a + b, 0)).toBe(frames);
    expect(Math.max(...r.batchSizes)).toBeLessThanOrEqual(16);
    for (const stage of ['decode', 'mel', 'infer', 'composite', 'encode', 'total'] as const) expect(r.timings[stage]).toBeGreaterThan(0);

    const probe = await ffprobe(out);
    const video = probe.streams.find((s) => s.codec_type === 'video')!;
    const audio = probe.streams.find((s) => s.codec_type === 'audio');
    expect(video.codec_name).toBe('h264');
    expect(video.pix_fmt).toBe('yuv420p');
    expect([video.width, video.height]).toEqual([512, 512]);
    expect(video.r_frame_rate).toBe('25/1');
    expect(Number(video.nb_frames)).toBe(frames);
    expect(audio).toBeDefined();
    expect(Math.abs(Number(probe.format.duration) - 3)).toBeLessThanOrEqual(0.05);
    // +faststart: the moov atom comes before mdat
    const head = (await fs.readFile(out)).subarray(0, 64 * 1024).toString('latin1');
    expect(head.indexOf('moov')).toBeGreaterThan(-1);
    expect(head.indexOf('moov')).toBeLessThan(head.indexOf('mdat') === -1 ? Infinity : head.indexOf('mdat'));
    expect((await outFiles()).filter((f) => f.includes('partial'))).toEqual([]);
  });

  it('should change the mouth region between frames while the rest of the frame matches the source', async () => {
    const out = path.join(work, 'ok.mp4');
    const avatar = await sut.avatars.prepare(ASTRONAUT, {});
    expect(avatar.cached).toBe(true); // the render above prepared it: no second detection
    const box = avatar.box(0);
    const frames = await decodeFrames(out, 512, 512);
    const src = new Uint8Array(await sharp(ASTRONAUT).removeAlpha().raw().toBuffer());
    const mouth = { x1: box.x1 + 4, x2: box.x2 - 4, y1: Math.round((box.y1 + box.y2) / 2) + 4, y2: box.y2 - 4 };
    // Outside the box (with a margin for the H.264 blocks around it) the frame is the source, up to encoding noise.
    const above = { x1: 0, x2: 512, y1: 0, y2: Math.max(0, box.y1 - 16) };
    const below = { x1: 0, x2: 512, y1: Math.min(512, box.y2 + 16), y2: 512 };
    for (const f of [frames[5], frames[40]]) {
      expect(meanAbsDiff(f, src, 512, above)).toBeLessThan(3);
      expect(meanAbsDiff(f, src, 512, below)).toBeLessThan(3);
    }
    // The generated mouth differs from frame to frame (speech at 10 and 30 frames vs silence at the end).
    const changes = [meanAbsDiff(frames[10], frames[30], 512, mouth), meanAbsDiff(frames[20], frames[70], 512, mouth)];
    expect(Math.max(...changes)).toBeGreaterThan(1);
  });

  it('should serve a second render of the same avatar from the cache without detection', async () => {
    const out = path.join(work, 'again.mp4');
    const r = await sut.renderer.render({
      facePath: ASTRONAUT,
      audioPath: speech,
      outPath: out,
      fps: 30,
      batchSize: 32,
      outputHeight: 256,
    });
    expect(r.avatarCached).toBe(true);
    expect(r.timings.detect ?? 0).toBe(0);
    const video = (await ffprobe(out)).streams.find((s) => s.codec_type === 'video')!;
    expect([video.width, video.height, video.r_frame_rate]).toEqual([256, 256, '30/1']);
    expect(Number(video.nb_frames)).toBe(Math.ceil((241 * 30) / 80));
  });

  it('should loop a short video avatar (ping-pong) to cover longer audio, keeping its size', async () => {
    // a 0.4 s, 25 fps, 320×240 clip of the portrait slowly zooming in, made with ffmpeg (10 frames: each is detected)
    const clip = path.join(work, 'clip.mp4');
    await runFfmpeg([
      '-loop',
      '1',
      '-i',
      ASTRONAUT,
      '-vf',
      "zoompan=z='1+0.01*on':d=10:s=320x240:fps=25",
      '-frames:v',
      '10',
      '-pix_fmt',
      'yuv420p',
      clip,
    ]);
    const out = path.join(work, 'video-avatar.mp4');
    const r = await sut.renderer.render({ facePath: clip, audioPath: speech, outPath: out, loop: 'pingpong' });
    expect(r.frames).toBe(Math.ceil((241 * 25) / 80)); // 3 s of audio from a 0.4 s clip
    const video = (await ffprobe(out)).streams.find((s) => s.codec_type === 'video')!;
    expect([video.width, video.height]).toEqual([320, 240]);
    expect(Number(video.nb_frames)).toBe(r.frames);
  });

  it('should render the frames of a video avatar where the face is missing unchanged (no paste)', async () => {
    // 3 s at 8 fps, 512²: 1 s portrait, 1 s ffmpeg test pattern (no face), 1 s portrait; all 24 frames are detected
    const clip = path.join(work, 'gap.mp4');
    await runFfmpeg([
      '-loop',
      '1',
      '-t',
      '1',
      '-i',
      ASTRONAUT,
      '-f',
      'lavfi',
      '-t',
      '1',
      '-i',
      'testsrc2=size=512x512:rate=8',
      '-loop',
      '1',
      '-t',
      '1',
      '-i',
      ASTRONAUT,
      '-filter_complex',
      '[0:v]fps=8,scale=512:512,format=yuv420p[a];[1:v]fps=8,format=yuv420p[b];[2:v]fps=8,scale=512:512,format=yuv420p[c];[a][b][c]concat=n=3:v=1[v]',
      '-map',
      '[v]',
      '-c:v',
      'libx264',
      '-crf',
      '10',
      clip,
    ]);
    const avatar = await sut.avatars.prepare(clip, {});
    expect(avatar.frameCount).toBe(24);
    const withFace = Array.from({ length: 24 }, (_, i) => avatar.hasFace(i));
    expect(withFace.slice(0, 8).every(Boolean)).toBe(true);
    expect(withFace.slice(8, 16).some(Boolean)).toBe(false);
    expect(withFace.slice(16).every(Boolean)).toBe(true);

    const out = path.join(work, 'gap-out.mp4');
    await sut.renderer.render({ facePath: clip, audioPath: speech, outPath: out, fps: 8, silence: 'model' }); // paste in pauses too
    const rendered = await decodeFrames(out, 512, 512);
    const source = await decodeFrames(clip, 512, 512);
    const box = avatar.box(0);
    const mouth = { x1: box.x1, x2: box.x2, y1: Math.round((box.y1 + box.y2) / 2), y2: box.y2 };
    // no face: the frame is the source, up to encoding noise; with the face the (demo) mouth is pasted
    for (let i = 9; i < 15; i++) expect(meanAbsDiff(rendered[i], source[i], 512, mouth)).toBeLessThan(3);
    const pasted = [2, 4, 18, 20].map((i) => meanAbsDiff(rendered[i], source[i], 512, mouth));
    expect(Math.max(...pasted)).toBeGreaterThan(3);
  });

  describe('bad input', () => {
    const expectCode = async (p: Promise<unknown>, code: string) => {
      const err = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(GatewayError);
      expect((err as GatewayError).code).toBe(code);
    };

    it('should refuse a missing face file, a non-image face and a face-less image', async () => {
      const out = path.join(work, 'bad.mp4');
      await expect(sut.renderer.render({ facePath: path.join(work, 'nope.png'), audioPath: speech, outPath: out })).rejects.toBeInstanceOf(
        GatewayError,
      );
      const text = path.join(work, 'face.png');
      await fs.writeFile(text, 'this is not an image at all\n'.repeat(20));
      await expect(sut.renderer.render({ facePath: text, audioPath: speech, outPath: out })).rejects.toMatchObject({
        code: expect.stringMatching(/UNSUPPORTED_MEDIA|IMAGE_UNDECODABLE/),
      });
      const blank = path.join(work, 'blank.png');
      await sharp({ create: { width: 256, height: 256, channels: 3, background: { r: 90, g: 140, b: 200 } } })
        .png()
        .toFile(blank);
      await expectCode(sut.renderer.render({ facePath: blank, audioPath: speech, outPath: out }), 'NO_FACE_FOUND');
      expect(await outFiles()).not.toContain('bad.mp4');
    });

    it('should refuse empty audio and a file that is only a WAV header', async () => {
      const out = path.join(work, 'bad.mp4');
      const empty = path.join(work, 'empty.wav');
      await fs.writeFile(empty, Buffer.alloc(0));
      await expect(sut.renderer.render({ facePath: ASTRONAUT, audioPath: empty, outPath: out })).rejects.toMatchObject({
        code: expect.stringMatching(/AUDIO_EMPTY|AUDIO_UNDECODABLE/),
      });
      const header = path.join(work, 'header.wav');
      await fs.writeFile(header, (await fs.readFile(speech)).subarray(0, 44));
      await expect(sut.renderer.render({ facePath: ASTRONAUT, audioPath: header, outPath: out })).rejects.toMatchObject({
        code: expect.stringMatching(/AUDIO_EMPTY|AUDIO_UNDECODABLE/),
      });
      expect(await outFiles()).not.toContain('bad.mp4');
    });

    it('should refuse an unwritable output path before doing any work', async () => {
      await expectCode(
        sut.renderer.render({ facePath: ASTRONAUT, audioPath: speech, outPath: path.join(work, 'no-such-dir', 'x.mp4') }),
        'OUTPUT_UNWRITABLE',
      );
    });

    it('should remove the partial output and end ffmpeg when the render is cancelled', async () => {
      const out = path.join(work, 'cancelled.mp4');
      const ac = new AbortController();
      const p = sut.renderer.render(
        { facePath: ASTRONAUT, audioPath: speech, outPath: out, batchSize: 8 },
        {
          signal: ac.signal,
          onProgress: (pr) => pr.framesDone >= 8 && ac.abort(),
        },
      );
      await expectCode(p, 'CANCELLED');
      expect((await outFiles()).filter((f) => f.startsWith('cancelled') || f.includes('cancelled.mp4'))).toEqual([]);
    });
  });
});
