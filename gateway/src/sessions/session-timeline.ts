import { SAMPLE_RATE } from '../audio/audio.constants';

export type SlotKind = 'speech' | 'idle';

/** One video frame of the session's continuous timeline and the audio it carries. */
export interface Slot {
  index: number;
  kind: SlotKind;
  /** samples of received (or spoken) audio in this slot */
  speech: number;
  /** silence samples after them (a padded last speech slot, or a whole idle slot) */
  silence: number;
  /** ms (session clock) when this slot's last speech sample arrived; for idle slots, when it was placed */
  at: number;
}

export interface TimelineOptions {
  fps: number;
  /** session clock (ms) of slot 0 */
  startMs: number;
  /** how long the timeline may trail the wall clock before idle frames fill it (ms) */
  idleAfterMs: number;
}

/**
 * The session's timeline, as pure bookkeeping: slot i (one video frame) covers samples
 * [⌊i·16000/fps⌋, ⌊(i+1)·16000/fps⌋) of the output audio. Speech claims slots from the cursor as soon
 * as a whole slot's audio has arrived; when no speech comes and the timeline's end trails the wall
 * clock by more than `idleAfterMs`, idle slots (silence, closed mouth) fill it up to the clock, so a
 * player never runs dry. Speech that arrives later continues from the cursor: no gap, no jump.
 */
export class SessionTimeline {
  private next = 0;
  private pending = 0;
  private lastSpeechAt = 0;

  constructor(private readonly o: TimelineOptions) {
    if (!(o.fps > 0)) throw new RangeError(`fps must be positive, got ${o.fps}`);
  }

  /** Slots placed so far. */
  get length(): number {
    return this.next;
  }

  /** Speech samples received but not yet placed (less than one slot). */
  get pendingSamples(): number {
    return this.pending;
  }

  /** First sample of slot i. */
  sampleAt(i: number): number {
    return Math.floor((i * SAMPLE_RATE) / this.o.fps);
  }

  samplesIn(i: number): number {
    return this.sampleAt(i + 1) - this.sampleAt(i);
  }

  /** Seconds of timeline placed. */
  get seconds(): number {
    return this.sampleAt(this.next) / SAMPLE_RATE;
  }

  /** New speech samples: returns the whole slots they complete. */
  addSpeech(samples: number, nowMs: number): Slot[] {
    if (samples <= 0) return [];
    this.pending += samples;
    this.lastSpeechAt = nowMs;
    const out: Slot[] = [];
    while (this.pending >= this.samplesIn(this.next)) {
      const need = this.samplesIn(this.next);
      out.push(this.place('speech', need, 0, nowMs));
      this.pending -= need;
    }
    return out;
  }

  /** Slots the wall clock asks for: trailing speech padded with silence, then idle slots up to the clock. */
  tick(nowMs: number): Slot[] {
    const due = Math.floor(((nowMs - this.o.startMs - this.o.idleAfterMs) * this.o.fps) / 1000);
    const out: Slot[] = [];
    while (this.next < due) out.push(this.pending > 0 ? this.padPending() : this.place('idle', 0, this.samplesIn(this.next), nowMs));
    return out;
  }

  /** The end of the session: what is left of the speech becomes a last, silence-padded slot. */
  flush(): Slot[] {
    return this.pending > 0 ? [this.padPending()] : [];
  }

  private padPending(): Slot {
    const need = this.samplesIn(this.next);
    const slot = this.place('speech', this.pending, need - this.pending, this.lastSpeechAt);
    this.pending = 0;
    return slot;
  }

  private place(kind: SlotKind, speech: number, silence: number, at: number): Slot {
    return { index: this.next++, kind, speech, silence, at };
  }
}
