import { GatewayError, toGatewayError } from '../common/errors';
import type { InferenceBackend } from '../inference/inference-backend';
import { FACE_ELEMENTS, MEL_WINDOW_ELEMENTS } from '../inference/model-contract';
import type { FfmpegProcess } from '../media/ffmpeg-runner';
import { compositeInto } from '../render/compositor';
import type { AvatarView } from '../render/render-pipeline';
import type { IncrementalMel } from './incremental-mel';
import { s16Bytes } from './pcm-chunks';
import type { Slot } from './session-timeline';

interface Work {
  slot: Slot;
  audio: Int16Array;
  /** the model's mouth for a speech slot (index j of its batch) */
  mouth?: Promise<Uint8Array>;
  j?: number;
  dropped?: boolean;
}

export interface SessionFramesOptions {
  fps: number;
  batchSize: number;
  /** batches in the backend at once */
  depth: number;
  /** a speech frame whose inference would start later than this after its audio is shown without the model */
  maxLagMs: number;
  inferDeadlineMs?: number;
  /** source frame shown at timeline slot i */
  sourceFrame(i: number): number;
  now(): number;
  onWritten(slot: Slot, dropped: boolean): void;
  onFailure(err: GatewayError): void;
}

/**
 * Turns placed timeline slots into frames, in order: idle slots are the source frame unchanged;
 * speech slots go to the backend in small batches as soon as their mel windows are complete (each
 * batch takes what is ready, up to batchSize, while at most `depth` are in flight), are
 * composited, and written to ffmpeg with the slot's audio (video on stdin, PCM on pipe 3).
 */
export class SessionFrames {
  private readonly works: Work[] = [];
  private submitted = 0; // works[0 … submitted) have been sent to the backend (or need none)
  private inflight = 0;
  private writing = false;
  private idleWaiters: (() => void)[] = [];
  private readonly abort = new AbortController();

  constructor(
    private readonly enc: FfmpegProcess,
    private readonly backend: InferenceBackend,
    private readonly avatar: AvatarView,
    private readonly mel: IncrementalMel,
    private readonly o: SessionFramesOptions,
  ) {}

  get queued(): number {
    return this.works.length;
  }

  add(slot: Slot, audio: Int16Array): void {
    this.works.push({ slot, audio });
  }

  /** Launches what can be inferred and writes what is ready; call after adding slots or mel columns. */
  pump(): void {
    if (this.abort.signal.aborted) return;
    this.launch();
    void this.write();
  }

  /** Resolves once every added slot is written. */
  drained(): Promise<void> {
    if (this.works.length === 0 && !this.writing) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  stop(): void {
    this.abort.abort();
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private launch(): void {
    while (this.inflight < this.o.depth && this.submitted < this.works.length) {
      const batch: Work[] = [];
      while (this.submitted < this.works.length && batch.length < this.o.batchSize) {
        const w = this.works[this.submitted];
        if (w.slot.kind === 'idle') {
          this.submitted++;
          continue;
        }
        if (this.o.now() - w.slot.at > this.o.maxLagMs) {
          w.dropped = true; // too late for the model: the frame keeps the closed mouth, the audio stays
          this.submitted++;
          continue;
        }
        if (!this.mel.frameReady(w.slot.index)) break;
        batch.push(w);
        this.submitted++;
      }
      if (batch.length === 0) return;
      this.infer(batch);
      const next = this.works[this.submitted];
      if (next) this.mel.releaseBefore(next.slot.index);
      if (this.submitted < this.works.length && !this.mel.frameReady(this.works[this.submitted].slot.index)) return;
    }
  }

  private infer(batch: Work[]): void {
    const n = batch.length;
    const mel = new Float32Array(n * MEL_WINDOW_ELEMENTS);
    const face = new Uint8Array(n * FACE_ELEMENTS);
    batch.forEach((w, j) => {
      this.mel.fillWindow(w.slot.index, mel, j * MEL_WINDOW_ELEMENTS);
      face.set(this.avatar.crop(this.o.sourceFrame(w.slot.index)), j * FACE_ELEMENTS);
    });
    this.inflight++;
    const result = this.backend.infer({ n, mel, face }, { signal: this.abort.signal, deadlineMs: this.o.inferDeadlineMs }).finally(() => {
      this.inflight--;
      this.pump();
    });
    result.catch(() => undefined); // awaited in order by write()
    batch.forEach((w, j) => {
      w.mouth = result;
      w.j = j;
    });
  }

  private async write(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.works.length && !this.abort.signal.aborted) {
        const w = this.works[0];
        const isSpeech = w.slot.kind === 'speech' && !w.dropped;
        if (isSpeech && !w.mouth) break; // waiting for its mel window or a free inference slot
        const fi = this.o.sourceFrame(w.slot.index);
        let frame = this.avatar.frame(fi);
        if (isSpeech) {
          const mouth = await w.mouth!;
          // a video avatar frame without the chosen face is sent unchanged (no paste), as in renders
          if (!this.avatar.hasFace || this.avatar.hasFace(fi)) {
            const out = Uint8Array.from(frame);
            compositeInto(
              out,
              this.avatar.width,
              this.avatar.box(fi),
              mouth.subarray(w.j! * FACE_ELEMENTS, (w.j! + 1) * FACE_ELEMENTS),
              this.avatar.mask(fi),
            );
            frame = out;
          }
        }
        if (this.abort.signal.aborted) break;
        await this.enc.write(frame);
        await this.enc.writeExtra(0, s16Bytes(w.audio));
        this.works.shift();
        this.submitted = Math.max(0, this.submitted - 1);
        this.o.onWritten(w.slot, w.dropped === true);
      }
    } catch (err) {
      if (!this.abort.signal.aborted) this.o.onFailure(toGatewayError(err));
      return;
    } finally {
      this.writing = false;
    }
    if (this.works.length === 0) for (const r of this.idleWaiters.splice(0)) r();
    else this.launch();
  }
}
