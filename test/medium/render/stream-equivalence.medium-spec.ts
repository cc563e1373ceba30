import { execFile } from 'child_process';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { loadConfig } from '../../../gateway/src/config/config';
import type { CoreServices } from '../../../gateway/src/core-services';
import { FakeBackend } from '../../../gateway/src/inference/fake.backend';
import { createTestCoreServices } from '../../helpers/test-app';
import { ASTRONAUT, makeSpeech } from '../../helpers/media';

const exec = promisify(execFile);

/** md5 of every decoded frame of one stream ('v' or 'a'), in order (ffmpeg's framemd5 muxer). */
async function frameHashes(file: string, stream: 'v' | 'a'): Promise<string[]> {
  const { stdout } = await exec(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-i', file, '-map', `0:${stream}:0`, '-f', 'framemd5', '-'],
    {
      maxBuffer: 64 << 20,
    },
  );
  return stdout
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(',')[5].trim());
}

/** Presentation time (s) of every packet of one stream, in order. */
async function packetTimes(file: string, stream: 'v' | 'a'): Promise<number[]> {
  const { stdout } = await exec('ffprobe', [
    '-v',
    'error',
    '-select_streams',
    `${stream}:0`,
    '-show_entries',
    'packet=pts_time',
    '-of',
    'csv=p=0',
    file,
  ]);
  return stdout.split('\n').filter(Boolean).map(Number);
}

/** AAC's priming: the encoder's first 1024 samples (at the 48 kHz output), trimmed by a plain MP4's edit list only. */
const PRIMING_S = 1024 / 48000;

/**
 * A streamed render (fragmented MP4: two 1-frame batches ramping up, the encoder started while the
 * audio decodes, zerolatency) draws the same frames as a plain render of the same input: encoded
 * losslessly (quality 0), every decoded video frame is identical and in order, the audio is the
 * same, the frame count follows the audio's length, and audio and video keep the same timing
 * relative to each other. A regression in the streamed path's order, windows, silence weights,
 * frame count or A/V sync shows here.
 *
 * The one known difference is ffmpeg's: a fragmented MP4 has no edit list, so its AAC track starts
 * with the encoder's 1024 priming samples (21.3 ms) and the muxer shifts the video frames after the
 * first by the same amount; sync is unchanged (asserted below), frame 0 lasts 21 ms longer.
 */
describe('streamed render = plain render (real ffmpeg, lossless)', () => {
  let work: string;
  let core: CoreServices;
  let speech: string;

  beforeAll(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'stream-equal-'));
    core = await createTestCoreServices(loadConfig({ DATA_DIR: path.join(work, 'data'), BATCH_SIZE: '8', INFERENCE_BACKEND: 'fake' }), {
      backend: new FakeBackend(),
    });
    speech = path.join(work, 'speech.wav');
    await makeSpeech(speech, 3);
  });

  afterAll(async () => {
    await core?.close();
    await fs.rm(work, { recursive: true, force: true });
  });

  it('should give the same decoded frames, the same audio and one frame per 40 ms of audio', async () => {
    const req = { facePath: ASTRONAUT, audioPath: speech, quality: 0, batchSize: 8 };
    const streamed = await core.renderer.render({ ...req, outPath: path.join(work, 'streamed.mp4'), fragmented: true });
    const plain = await core.renderer.render({ ...req, outPath: path.join(work, 'plain.mp4') });
    expect(streamed.batchSizes.slice(0, 4)).toEqual([1, 1, 2, 4]);
    expect(plain.batchSizes[0]).toBe(8);

    // ⌈T·25/80⌉ frames for T = 1 + ⌊samples/200⌋ mel columns
    const samples = Math.round(streamed.audioSeconds * 16000);
    const expected = Math.ceil(((1 + Math.floor(samples / 200)) * 25) / 80);
    expect(streamed.frames).toBe(expected);
    expect(plain.frames).toBe(expected);

    const [sv, pv] = await Promise.all([frameHashes(streamed.outPath, 'v'), frameHashes(plain.outPath, 'v')]);
    expect(sv).toHaveLength(expected);
    expect(sv).toEqual(pv);
    // the fake mouth moves with the mel: the frames are not all the same picture
    expect(new Set(sv).size).toBeGreaterThanOrEqual(3);
    const [sa, pa] = await Promise.all([frameHashes(streamed.outPath, 'a'), frameHashes(plain.outPath, 'a')]);
    expect(pa.length).toBeGreaterThan(50);
    expect(sa.slice(1, pa.length + 1)).toEqual(pa); // the same audio after the priming frame

    // timing: plain video k at k/25, audio frame j at j·1024/48000; streamed: both shifted by the priming
    const [svt, pvt, sat, pat] = await Promise.all([
      packetTimes(streamed.outPath, 'v'),
      packetTimes(plain.outPath, 'v'),
      packetTimes(streamed.outPath, 'a'),
      packetTimes(plain.outPath, 'a'),
    ]);
    pvt.forEach((t, k) => expect(t).toBeCloseTo(k / 25, 3));
    expect(svt[0]).toBe(0);
    for (let k = 1; k < svt.length; k++) expect(svt[k] - PRIMING_S).toBeCloseTo(pvt[k], 3);
    // the same packets; the plain MP4's first is the priming, cut by its edit list (no time), the streamed one's plays at 0
    expect(sat).toHaveLength(pat.length);
    expect(Number.isNaN(pat[0])).toBe(true);
    expect(sat[0]).toBe(0);
    for (let j = 1; j < sat.length; j++) expect(sat[j] - PRIMING_S).toBeCloseTo(pat[j], 3);
  });
});
