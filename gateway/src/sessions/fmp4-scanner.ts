/**
 * Follows a fragmented MP4 byte stream box by box (ISO/IEC 14496-12) without holding it: it keeps
 * only `moof` boxes (small) to count the samples each fragment carries per track. A session uses it
 * to know when a video frame has left (its fragment's mdat fully sent): the audio-in → video-out
 * latency, and where the init segment (ftyp + moov) ends.
 */
export class Fmp4Scanner {
  private header = Buffer.alloc(0); // bytes of a box header being read
  private remaining = 0; // bytes left of the current box's body
  private type = '';
  private moof: Buffer[] = [];
  private pendingSamples = new Map<number, number>(); // per track, from the last moof
  private readonly done = new Map<number, number>();
  private offset = 0;
  /** byte offset where the first moof starts (= the init segment's length), once seen */
  initSegmentBytes: number | undefined;

  /** Samples of `trackId` whose fragment has been seen completely. */
  samples(trackId: number): number {
    return this.done.get(trackId) ?? 0;
  }

  push(chunk: Uint8Array): void {
    let p = 0;
    while (p < chunk.length) {
      if (this.remaining === 0 && this.type === '') {
        const need = this.headerNeed();
        const k = Math.min(need - this.header.length, chunk.length - p);
        this.header = Buffer.concat([this.header, chunk.subarray(p, p + k)]);
        p += k;
        if (this.header.length < need) continue;
        if (need === 8 && this.header.readUInt32BE(0) === 1) continue; // 64-bit size follows
        this.startBox();
        continue;
      }
      const k = Math.min(this.remaining, chunk.length - p);
      if (this.type === 'moof') this.moof.push(Buffer.from(chunk.subarray(p, p + k)));
      p += k;
      this.remaining -= k;
      if (this.remaining === 0) this.endBox();
    }
  }

  private headerNeed(): number {
    return this.header.length >= 8 && this.header.readUInt32BE(0) === 1 ? 16 : 8;
  }

  private startBox(): void {
    const size32 = this.header.readUInt32BE(0);
    const size = size32 === 1 ? Number(this.header.readBigUInt64BE(8)) : size32;
    this.type = this.header.toString('latin1', 4, 8);
    if (this.type === 'moof' && this.initSegmentBytes === undefined) this.initSegmentBytes = this.offset;
    this.offset += size;
    this.remaining = size - this.header.length;
    this.header = Buffer.alloc(0);
    if (size32 === 0 || this.remaining < 0) throw new Error(`unsupported MP4 box size ${size32} (${this.type})`);
    if (this.remaining === 0) this.endBox();
  }

  private endBox(): void {
    if (this.type === 'moof') {
      this.pendingSamples = countMoofSamples(Buffer.concat(this.moof));
      this.moof = [];
    } else if (this.type === 'mdat') {
      for (const [track, n] of this.pendingSamples) this.done.set(track, (this.done.get(track) ?? 0) + n);
      this.pendingSamples = new Map();
    }
    this.type = '';
  }
}

/** Children of a container box body: [type, body] pairs. */
function* boxes(body: Buffer): Generator<[string, Buffer]> {
  for (let o = 0; o + 8 <= body.length;) {
    const size = body.readUInt32BE(o);
    if (size < 8 || o + size > body.length) return;
    yield [body.toString('latin1', o + 4, o + 8), body.subarray(o + 8, o + size)];
    o += size;
  }
}

/** Sample counts per track_ID in a moof body: tfhd gives the track, each trun its sample_count. */
export function countMoofSamples(moofBody: Buffer): Map<number, number> {
  const out = new Map<number, number>();
  for (const [type, traf] of boxes(moofBody)) {
    if (type !== 'traf') continue;
    let track = -1;
    let n = 0;
    for (const [t, b] of boxes(traf)) {
      if (t === 'tfhd' && b.length >= 8) track = b.readUInt32BE(4); // version/flags, then track_ID
      if (t === 'trun' && b.length >= 8) n += b.readUInt32BE(4); // version/flags, then sample_count
    }
    if (track >= 0) out.set(track, (out.get(track) ?? 0) + n);
  }
  return out;
}
