import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadConfig } from '../../../gateway/src/config/config';
import type { CoreServices } from '../../../gateway/src/core-services';
import { createTestCoreServices } from '../../helpers/test-app';
import { FakeBackend } from '../../../gateway/src/inference/fake.backend';
import type { Wav2LipBatch, InferOptions } from '../../../gateway/src/inference/inference-backend';
import { ASTRONAUT, ffprobe, makeSpeech } from '../../helpers/media';

/** A fake backend that holds every batch after the first until released: the test looks at the file in between. */
class GatedBackend extends FakeBackend {
  private release!: () => void;
  readonly gate = new Promise<void>((r) => (this.release = r));
  firstDone!: () => void;
  readonly firstBatchDone = new Promise<void>((r) => (this.firstDone = r));
  private n = 0;
  open(): void {
    this.release();
  }
  async infer(batch: Wav2LipBatch, opts?: InferOptions): Promise<Uint8Array> {
    if (this.n++ > 0) await this.gate;
    else setTimeout(() => this.firstDone(), 0);
    return super.infer(batch, opts);
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
    backend.open();
    await core?.close();
    await fs.rm(work, { recursive: true, force: true });
  });

  it('should write ftyp, moov and a first moof+mdat before the second batch is inferred', async () => {
    const out = path.join(work, 'stream.mp4');
    const render = core.renderer.render({ facePath: ASTRONAUT, audioPath: speech, outPath: out, fragmented: true, batchSize: 16 });
    await backend.firstBatchDone;
    // The second batch is held: wait (generously) for ffmpeg to flush the first frame's fragment.
    let boxes: string[] = [];
    for (let i = 0; i < 300 && !boxes.includes('moof'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      boxes = await fs.readFile(out).then(topLevelBoxes, () => []);
    }
    expect(boxes.slice(0, 4)).toEqual(['ftyp', 'moov', 'moof', 'mdat']);
    backend.open();
    const r = await render;
    expect(r.batchSizes.slice(0, 4)).toEqual([2, 4, 8, 16]);
    expect(r.timings.firstFrame).toBeGreaterThan(0);
    const probe = await ffprobe(out);
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    // fragmented: no nb_frames in the header; -count_frames decodes them all
    const video = probe.streams.find((s) => s.codec_type === 'video') as unknown as { nb_read_frames: string };
    expect(Number(video.nb_read_frames)).toBe(r.frames);
  });
});
