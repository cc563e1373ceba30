import { execFile } from 'child_process';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { loadConfig } from '../../../gateway/src/config/config';
import { CoreServices, createCoreServices } from '../../../gateway/src/core-services';
import { ASTRONAUT, decodeFrames, meanAbsDiff, runFfmpeg as ff } from '../../helpers/media';

/**
 * Closed mouth in silence through the real pipeline (demo model, ffmpeg, face detection): speech,
 * one second of digital silence, speech. With silence=keep the mouth region of the frames in the
 * pause is the source portrait (up to H.264 noise); with silence=model it is the model's mouth.
 */
describe('silence: keep (real pipeline, demo model)', () => {
  let work: string;
  let sut: CoreServices;
  let audio: string;

  beforeAll(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'silence-medium-'));
    sut = await createCoreServices(loadConfig({ DATA_DIR: path.join(work, 'data'), BATCH_SIZE: '16' }));
    // 1 s of speech + 1 s of zeros + 1 s of speech, 16 kHz mono
    const speech = path.join(work, 'speech.wav');
    await new Promise<void>((resolve, reject) =>
      execFile('espeak-ng', ['-v', 'en-us', '-s', '200', '-w', speech, 'Hello there, talking all the time.'], (e) =>
        e ? reject(e) : resolve(),
      ),
    );
    audio = path.join(work, 'pause.wav');
    await ff([
      '-i',
      speech,
      '-f',
      'lavfi',
      '-i',
      'anullsrc=r=16000:cl=mono',
      '-i',
      speech,
      '-filter_complex',
      '[0:a]aresample=16000,atrim=0:1,asetpts=N/SR/TB[a];[1:a]atrim=0:1[s];[2:a]aresample=16000,atrim=0:1,asetpts=N/SR/TB[b];[a][s][b]concat=n=3:v=0:a=1[o]',
      '-map',
      '[o]',
      '-ar',
      '16000',
      '-ac',
      '1',
      audio,
    ]);
  });
  afterAll(async () => {
    await sut?.close();
    await fs.rm(work, { recursive: true, force: true });
  });

  it('should show the source mouth in the silent second and the model mouth around it; silence=model pastes everywhere', async () => {
    const keepOut = path.join(work, 'keep.mp4');
    const modelOut = path.join(work, 'model.mp4');
    const keep = await sut.renderer.render({ facePath: ASTRONAUT, audioPath: audio, outPath: keepOut, quality: 10 });
    const model = await sut.renderer.render({ facePath: ASTRONAUT, audioPath: audio, outPath: modelOut, quality: 10, silence: 'model' });
    expect(keep.frames).toBe(model.frames);
    // frames 25–49 are the pause; their windows look ~0.25 s ahead and fade over 3 frames: 29–41 are pure source
    expect(keep.silentFrames).toBeGreaterThanOrEqual(13);
    expect(keep.silentFrames).toBeLessThanOrEqual(25);
    expect(model.silentFrames).toBe(0);

    const box = (await sut.avatars.prepare(ASTRONAUT, {})).box(0);
    const mouth = { x1: box.x1 + 4, x2: box.x2 - 4, y1: Math.round((box.y1 + box.y2) / 2), y2: box.y2 - 4 };
    const src = new Uint8Array(await sharp(ASTRONAUT).removeAlpha().raw().toBuffer());
    const keepFrames = await decodeFrames(keepOut, 512, 512);
    const modelFrames = await decodeFrames(modelOut, 512, 512);
    const diff = (f: Uint8Array) => meanAbsDiff(f, src, 512, mouth);

    const inPause = [30, 33, 36, 40];
    for (const i of inPause) {
      // the source mouth, up to encoding noise (~2.5 here, as outside the box); the model's is ~65 away
      expect(diff(keepFrames[i])).toBeLessThan(3);
      expect(diff(modelFrames[i])).toBeGreaterThan(20);
    }
    // speech frames carry the model's mouth in both renders, the same one
    for (const i of [8, 15, 60, 68]) {
      expect(diff(keepFrames[i])).toBeGreaterThan(20);
      // (the two encodes differ a little: H.264 predicts from different neighbours)
      expect(meanAbsDiff(keepFrames[i], modelFrames[i], 512, mouth)).toBeLessThan(5);
    }
  });
});
