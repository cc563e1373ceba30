import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadConfig } from '../../../gateway/src/config/config';
import type { CoreServices } from '../../../gateway/src/core-services';
import { createTestCoreServices } from '../../helpers/test-app';
import { FakeBackend } from '../../../gateway/src/inference/fake.backend';
import type { Wav2LipBatch, InferOptions } from '../../../gateway/src/inference/inference-backend';
import { ASTRONAUT, ffprobe, makeSpeech } from '../../helpers/media';

/**
 * A fake backend that holds its second batch until `release(1)` and every later one until
 * `release(2)`: the test looks at the file in between. `done[k]` resolves when batch k returned.
 */
class GatedBackend extends FakeBackend {
  private readonly releases: (() => void)[] = [];
  private readonly gates = [1, 2].map((k) => new Promise<void>((r) => (this.releases[k] = r)));
  private readonly dones: (() => void)[] = [];
  readonly done = [0, 1].map((k) => new Promise<void>((r) => (this.dones[k] = r)));
  private n = 0;
  release(k: 1 | 2): void {
    this.releases[k]();
    if (k === 2) this.releases[1]();
  }
  async infer(batch: Wav2LipBatch, opts?: InferOptions): Promise<Uint8Array> {
    const k = this.n++;
    if (k > 0) await this.gates[Math.min(k, 2) - 1];
    const out = await super.infer(batch, opts);
    if (k < 2) setTimeout(() => this.dones[k](), 0);
    return out;
  }
}

const topLevelBoxes = (buf: Buffer): string[] => {
  const types: string[] = [];
  for (let o = 0; o + 8 <= buf.length;) {
    const size = buf.readUInt32BE(o);
    types.push(buf.toString('latin1', o + 4, o + 8));
    if (size < 8) break;
    o += size;
  }
  return types;
};

/** Real ffmpeg: a streamed render's first fragment reaches the file while later batches are still being inferred. */
describe('streamed render (fragmented MP4, real ffmpeg)', () => {
  let work: string;
  let core: CoreServices;
  let backend: GatedBackend;
  let speech: string;

  beforeAll(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'stream-medium-'));
    backend = new GatedBackend();
    core = await createTestCoreServices(loadConfig({ DATA_DIR: path.join(work, 'data'), BATCH_SIZE: '16', INFERENCE_BACKEND: 'fake' }), {
      backend,
    });
    speech = path.join(work, 'speech.wav');
    await makeSpeech(speech, 2);
  });

  afterAll(async () => {
    backend.release(2);
    await core?.close();
    await fs.rm(work, { recursive: true, force: true });
  });

  /** waits (generously) for ffmpeg to flush what it has, until `until` holds */
  const boxesOf = async (file: string, until: (b: string[]) => boolean): Promise<string[]> => {
    let boxes: string[] = [];
    for (let i = 0; i < 300 && !until(boxes); i++) {
      await new Promise((r) => setTimeout(r, 100));
      boxes = await fs.readFile(file).then(topLevelBoxes, () => []);
    }
    return boxes;
  };

  it('should write the init segment after the first 1-frame batch and the first fragment after the second', async () => {
    const out = path.join(work, 'stream.mp4');
    const render = core.renderer.render({ facePath: ASTRONAUT, audioPath: speech, outPath: out, fragmented: true, batchSize: 16 });
    await backend.done[0];
    // one frame in: ftyp + moov leave (a stream's first bytes); the muxer cuts frame 0's fragment when frame 1 comes
    expect(await boxesOf(out, (b) => b.includes('moov'))).toEqual(['ftyp', 'moov']);
    backend.release(1);
    await backend.done[1];
    expect((await boxesOf(out, (b) => b.includes('moof'))).slice(0, 4)).toEqual(['ftyp', 'moov', 'moof', 'mdat']);
    backend.release(2);
    const r = await render;
    expect(r.batchSizes.slice(0, 6)).toEqual([1, 1, 2, 4, 8, 16]);
    expect(r.timings.firstFrame).toBeGreaterThan(0);
    expect(r.timings.marks?.encoderStarted).toBeLessThan(r.timings.marks!.firstBatch!);
    const probe = await ffprobe(out);
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    // fragmented: no nb_frames in the header; -count_frames decodes them all
    const video = probe.streams.find((s) => s.codec_type === 'video') as unknown as { nb_read_frames: string };
    expect(Number(video.nb_read_frames)).toBe(r.frames);
  });
});
