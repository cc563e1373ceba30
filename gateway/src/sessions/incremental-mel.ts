import { HOP, MEL_FLOOR, MEL_FPS, MEL_WINDOW, N_FFT, N_MELS } from '../audio/audio.constants';
import { melSpectrogram } from '../audio/mel-spectrogram';

/** Samples a mel column t ≥ 1 needs: its centred 800-sample frame ends at t·200 + 400. */
const HALF = N_FFT / 2;
/** Columns 0 and 1 are made together, from the stream's first 600 samples (reflect padding at the start). */
const FIRST_SAMPLES = HOP + HALF;

/** Columns computable from n samples of an open-ended stream (the frame must lie inside the samples). */
export function columnsFor(n: number): number {
  return n < FIRST_SAMPLES ? 0 : Math.floor((n - HALF) / HOP) + 1;
}

/** Wav2Lip's window start for frame i while the end of the audio is unknown: int(i·80/fps). */
export function openWindowStart(i: number, fps: number): number {
  return Math.trunc((i * MEL_FPS) / fps);
}

/**
 * Wav2Lip's mel spectrogram, computed as audio arrives (wav2lip.md §3/§4), equal to the offline
 * `melSpectrogram` of the whole stream: an interior column depends only on its own 800 samples, so
 * columns are made from slices of the stream (the slice's own edge columns, which would use
 * reflect padding, are dropped). The start and, after finish(), the end use the stream's true edges.
 * Frame i needs columns int(i·80/fps) … +15, i.e. the 200 ms of audio after it.
 */
export class IncrementalMel {
  private samples = new Float32Array(16_000);
  private sampleBase = 0; // absolute index of samples[0]
  private received = 0; // absolute number of samples pushed
  private columns: Float32Array[] = []; // columns[k] is absolute column colBase + k
  private colBase = 0;
  private total: number | undefined; // T once finished

  constructor(private readonly fps: number) {
    if (!(fps > 0)) throw new RangeError(`fps must be positive, got ${fps}`);
  }

  get samplesReceived(): number {
    return this.received;
  }

  get columnsReady(): number {
    return this.colBase + this.columns.length;
  }

  get finished(): boolean {
    return this.total !== undefined;
  }

  push(pcm: Float32Array): void {
    if (this.finished) throw new Error('push after finish');
    const used = this.received - this.sampleBase;
    if (used + pcm.length > this.samples.length) {
      const grown = new Float32Array(Math.max(2 * this.samples.length, used + pcm.length));
      grown.set(this.samples.subarray(0, used));
      this.samples = grown;
    }
    this.samples.set(pcm, used);
    this.received += pcm.length;
    this.compute(columnsFor(this.received), false);
  }

  /** The stream ended: the last columns are made with reflect padding at the end, like the offline mel. */
  finish(): void {
    if (this.finished) return;
    const T = 1 + Math.floor(this.received / HOP);
    this.compute(T, true);
    this.total = T;
  }

  /** Whether frame i's 16-column window is complete (always, once finished). */
  frameReady(i: number): boolean {
    if (this.finished) return true;
    return this.columnsReady >= openWindowStart(i, this.fps) + MEL_WINDOW;
  }

  /** Writes frame i's [80, 16] window at out[offset…]; after finish() the start is clamped to T−16 as Wav2Lip does. */
  fillWindow(i: number, out: Float32Array, offset = 0): void {
    if (!this.frameReady(i)) throw new RangeError(`frame ${i}'s mel window is not complete yet`);
    let start = openWindowStart(i, this.fps);
    if (this.total !== undefined) start = Math.max(0, Math.min(start, this.total - MEL_WINDOW));
    if (start < this.colBase) throw new RangeError(`frame ${i}'s mel columns were already released`);
    const available = this.columnsReady;
    for (let c = 0; c < MEL_WINDOW; c++) {
      const t = start + c;
      const col = t < available ? this.columns[t - this.colBase] : undefined;
      for (let b = 0; b < N_MELS; b++) out[offset + b * MEL_WINDOW + c] = col ? col[b] : MEL_FLOOR;
    }
  }

  /** Frees columns (and the samples behind them) no frame from `frame` on will read. */
  releaseBefore(frame: number): void {
    if (this.total !== undefined) return; // finished: the stream is over anyway
    // From the previous frame's start: once the end is known, later windows clamp back to T−16,
    // which is never before the start of a frame that was already complete.
    const keepCol = Math.min(openWindowStart(Math.max(0, frame - 1), this.fps), this.columnsReady);
    if (keepCol > this.colBase) {
      this.columns.splice(0, keepCol - this.colBase);
      this.colBase = keepCol;
    }
    // the next column to compute needs samples from its frame start on
    const keepSample = Math.max(0, this.columnsReady * HOP - HALF);
    const drop = keepSample - this.sampleBase;
    if (drop > 0 && this.columnsReady >= 2) {
      this.samples.copyWithin(0, drop, this.received - this.sampleBase);
      this.sampleBase = keepSample;
    }
  }

  private compute(upTo: number, atEnd: boolean): void {
    let a = this.columnsReady;
    if (upTo <= a) return;
    const local = (abs: number) => abs - this.sampleBase;
    if (a === 0) {
      // The stream's start: a prefix long enough for columns 0 and 1 (or the whole, short, stream at the end).
      const len = atEnd ? this.received : Math.min(this.received, FIRST_SAMPLES);
      const mel = melSpectrogram(this.samples.subarray(0, len));
      const first = atEnd ? mel.frames : 2;
      for (let t = 0; t < first; t++) this.columns.push(column(mel, t));
      a = first;
      if (upTo <= a) return;
    }
    // Slice from the first new column's frame start; its columns 0 and 1 (reflect-padded) are dropped.
    const s0 = a * HOP - HALF;
    const s1 = atEnd ? this.received : (upTo - 1) * HOP + HALF;
    const mel = melSpectrogram(this.samples.subarray(local(s0), local(s1)));
    for (let t = a; t < upTo; t++) this.columns.push(column(mel, t - a + 2));
  }
}

function column(mel: { data: Float32Array; frames: number }, t: number): Float32Array {
  const out = new Float32Array(N_MELS);
  for (let b = 0; b < N_MELS; b++) out[b] = mel.data[b * mel.frames + t];
  return out;
}
