import { execFile } from 'child_process';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { loadConfig } from '../../../gateway/src/config/config';
import type { CoreServices } from '../../../gateway/src/core-services';
import { avatarFrameIndex } from '../../../gateway/src/face/frame-index';
import { FakeBackend } from '../../../gateway/src/inference/fake.backend';
import { LiveSession, SessionSink } from '../../../gateway/src/sessions/live-session';
import type { SessionEvent } from '../../../gateway/src/sessions/session-protocol';
import { ASTRONAUT } from '../../helpers/media';
import { createTestCoreServices } from '../../helpers/test-app';

const exec = promisify(execFile);

class CollectingSink implements SessionSink {
  /** after this many chunks the reader is "too slow" */
  constructor(private readonly acceptChunks = Infinity) {}
  readonly chunks: Buffer[] = [];
  readonly events: SessionEvent[] = [];
  closedWith?: [number, string];
  binary(c: Buffer): boolean {
    if (this.chunks.length >= this.acceptChunks) return false;
    this.chunks.push(c);
    return true;
  }
  event(e: SessionEvent): void {
    this.events.push(e);
  }
  close(code: number, reason: string): void {
    this.closedWith = [code, reason];
  }
}

/** A 220 Hz tone, s16le, `seconds` long. */
function tone(seconds: number): Buffer {
  const n = Math.round(seconds * 16000);
  const b = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / 16000)), i * 2);
  return b;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('LiveSession (real ffmpeg, fake model)', () => {
  let work: string;
  let core: CoreServices;

  beforeAll(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'session-medium-'));
    core = await createTestCoreServices(loadConfig({ DATA_DIR: path.join(work, 'data'), INFERENCE_BACKEND: 'fake' }), {
      backend: new FakeBackend(),
    });
  });
  afterAll(async () => {
    await core?.close();
    await fs.rm(work, { recursive: true, force: true });
  });

  const open = async (sink: SessionSink, tmp: string, idleAfterMs = 300, idleTimeoutMs = 30_000) => {
    const avatar = await core.avatars.prepare(ASTRONAUT, {});
    const s = new LiveSession(
      {
        runner: core.runner,
        backend: core.backend,
        avatar,
        frameIndex: avatarFrameIndex,
        speech: core.speech,
        decode: async (f, signal) => (await core.audio.load(f, { signal })).pcm,
        tmpDir: tmp,
      },
      {
        id: 's1',
        fps: 25,
        encoder: 'libx264',
        batchSize: 4,
        idleAfterMs,
        maxSeconds: 60,
        idleTimeoutMs,
        maxLagMs: 60_000,
        lateAfterMs: 1000,
      },
      sink,
    );
    await s.start();
    return s;
  };

  it('should stream an fMP4 of H.264 + AAC whose video covers the audio sent, then end', async () => {
    const sink = new CollectingSink();
    const tmp = path.join(work, 'tmp1');
    // a generous idle grace: a loaded test machine must not turn a late chunk into idle frames
    const s = await open(sink, tmp, 5000);
    const pcm = tone(2);
    const t0 = Date.now();
    for (let k = 0, o = 0; o < pcm.length; k++, o += 1280) {
      s.onBinary(pcm.subarray(o, o + 1280));
      await sleep(Math.max(0, t0 + (k + 1) * 40 - Date.now())); // real-time pace, on a fixed schedule
    }
    s.onText(JSON.stringify({ type: 'end' }));
    await s.closed;
    expect(sink.events[0]).toMatchObject({
      type: 'ready',
      fps: 25,
      width: 512,
      height: 512,
      mime: 'video/mp4; codecs="avc1.42C01E, mp4a.40.2"',
    });
    const ended = sink.events.find((e) => e.type === 'ended') as any;
    expect(ended.frames).toBe(50);
    expect(ended.speechFrames).toBe(50);
    expect(sink.closedWith?.[0]).toBe(1000);
    const file = path.join(work, 'live.mp4');
    await fs.writeFile(file, Buffer.concat(sink.chunks));
    const { stdout } = await exec('ffprobe', [
      '-v',
      'error',
      '-count_frames',
      '-show_entries',
      'stream=codec_name,nb_read_frames,duration,profile,level',
      '-of',
      'json',
      file,
    ]);
    const streams = JSON.parse(stdout).streams;
    expect(streams.map((x: any) => x.codec_name)).toEqual(['h264', 'aac']);
    expect(Number(streams[0].nb_read_frames)).toBe(50);
    expect(Math.abs(Number(streams[1].duration) - 2)).toBeLessThan(0.05);
    await expect(fs.stat(tmp)).rejects.toThrow();
    // the codec string announced in `ready` is the one in the stream's avcC box
    const bytes = Buffer.concat(sink.chunks);
    const avcC = bytes.indexOf('avcC') + 4;
    const codec = `avc1.${bytes
      .subarray(avcC + 1, avcC + 4)
      .toString('hex')
      .toUpperCase()}`;
    expect((sink.events[0] as { mime: string }).mime).toContain(`codecs="${codec}, mp4a.40.2"`);
  });

  it('should close a slow reader with SLOW_CONSUMER, killing its ffmpeg and removing its temp folder', async () => {
    const sink = new CollectingSink(2);
    const tmp = path.join(work, 'tmp3');
    const s = await open(sink, tmp, 5000);
    const pcm = tone(1);
    s.onBinary(pcm); // 1 s at once: many fragments at once
    await s.closed;
    expect(sink.events.find((e) => e.type === 'error')).toMatchObject({ code: 'SLOW_CONSUMER', fatal: true });
    expect(sink.closedWith?.[0]).toBe(4429);
    await expect(fs.stat(tmp)).rejects.toThrow();
    expect(s.status).toBe('ended');
  });

  it('should end an idle session with SESSION_TIMEOUT after the rest is sent (close 4408)', async () => {
    const sink = new CollectingSink();
    const tmp = path.join(work, 'tmp4');
    const s = await open(sink, tmp, 5000, 800);
    s.onBinary(tone(0.4));
    await s.closed; // nobody says anything more
    expect(sink.events.find((e) => e.type === 'error')).toMatchObject({ code: 'SESSION_TIMEOUT', fatal: true });
    expect(sink.events.find((e) => e.type === 'ended')).toMatchObject({ speechFrames: 10 });
    expect(sink.closedWith?.[0]).toBe(4408);
    await expect(fs.stat(tmp)).rejects.toThrow();
  });

  it('should play idle frames while no audio comes', async () => {
    const sink = new CollectingSink();
    const s = await open(sink, path.join(work, 'tmp2'));
    await sleep(1500);
    s.onText('{"type":"end"}');
    await s.closed;
    const ended = sink.events.find((e) => e.type === 'ended') as any;
    expect(ended.idleFrames).toBeGreaterThanOrEqual(20);
    expect(ended.speechFrames).toBe(0);
  });
});
