import { GatewayError } from '../common/errors';

/** Live audio is raw PCM s16le, 16 kHz, mono: 2 bytes a sample. */
export const PCM_BYTES_PER_SAMPLE = 2;

/** One binary message as samples; a message must hold whole samples (an odd byte count is refused). */
export function pcmFromMessage(buf: Uint8Array): Int16Array {
  if (buf.length % PCM_BYTES_PER_SAMPLE !== 0) {
    throw new GatewayError('BAD_MESSAGE', `a PCM message must hold whole s16le samples (an even byte count), got ${buf.length} bytes`);
  }
  const out = new Int16Array(buf.length / PCM_BYTES_PER_SAMPLE);
  // a copy: the socket's buffer may be unaligned for an Int16Array view, and is reused by ws
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}

/** s16 → float32 in [-1, 1), as ffmpeg decodes s16 (x / 32768). */
export function s16ToFloat(s: Int16Array): Float32Array {
  const out = new Float32Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s[i] / 32768;
  return out;
}

/** float32 → s16 with rounding and clipping (TTS audio joins the timeline as s16, like received audio). */
export function floatToS16(f: Float32Array): Int16Array {
  const out = new Int16Array(f.length);
  for (let i = 0; i < f.length; i++) {
    const v = Math.round(f[i] * 32768);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

/** s16 samples as little-endian bytes (what ffmpeg's `-f s16le` input reads). */
export function s16Bytes(s: Int16Array): Buffer {
  const out = Buffer.alloc(s.length * 2);
  for (let i = 0; i < s.length; i++) out.writeInt16LE(s[i], i * 2);
  return out;
}

/** A FIFO of samples fed by chunks of any size and drained by exact counts (one video frame's worth). */
export class SampleQueue {
  private chunks: Int16Array[] = [];
  private head = 0; // samples of chunks[0] already taken
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(samples: Int16Array): void {
    if (samples.length === 0) return;
    this.chunks.push(samples);
    this.size += samples.length;
  }

  /** Takes min(n, length) samples; the result is zero-padded to n when `padTo` is set. */
  take(n: number, padTo = false): Int16Array {
    const out = new Int16Array(padTo ? n : Math.min(n, this.size));
    let filled = 0;
    while (filled < n && this.chunks.length) {
      const c = this.chunks[0];
      const k = Math.min(n - filled, c.length - this.head);
      out.set(c.subarray(this.head, this.head + k), filled);
      filled += k;
      this.head += k;
      this.size -= k;
      if (this.head === c.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    return out;
  }
}
