/**
 * Gathers float32 little-endian PCM from stdout chunks of any size (a chunk may end inside a
 * sample) into one growing Float32Array, without holding the chunks themselves.
 */
export class PcmCollector {
  private buf: Float32Array;
  private bytes: Uint8Array;
  private byteLength = 0;

  constructor(expectedSamples = 16_000) {
    this.buf = new Float32Array(Math.max(1024, Math.ceil(expectedSamples)));
    this.bytes = new Uint8Array(this.buf.buffer);
  }

  push(chunk: Uint8Array): void {
    const need = this.byteLength + chunk.length;
    if (need > this.bytes.length) this.grow(need);
    this.bytes.set(chunk, this.byteLength);
    this.byteLength = need;
  }

  get samples(): number {
    return Math.floor(this.byteLength / 4);
  }

  /** The whole samples received so far (a trailing partial sample is dropped), trimmed to size. */
  result(): Float32Array {
    const n = this.samples;
    return n === this.buf.length ? this.buf : this.buf.slice(0, n);
  }

  private grow(minBytes: number): void {
    let size = this.bytes.length * 2;
    while (size < minBytes) size *= 2;
    // keep 4-byte multiples so the Float32Array view stays valid
    const next = new Float32Array(Math.ceil(size / 4));
    const nextBytes = new Uint8Array(next.buffer);
    nextBytes.set(this.bytes.subarray(0, this.byteLength));
    this.buf = next;
    this.bytes = nextBytes;
  }
}
