// Audio files for a live session: decoded by the browser, resampled to the session's input format
// (PCM s16le, 16 kHz, mono) and sent in small chunks at real-time pace.

export const SAMPLE_RATE = 16_000;
export const CHUNK_MS = 100;

/** Decodes an audio file to 16 kHz mono s16le (an Int16Array). */
export async function fileToPcm16k(file) {
  const bytes = await file.arrayBuffer();
  // an OfflineAudioContext at 16 kHz makes decodeAudioData resample for us
  const ctx = new OfflineAudioContext(1, 1, SAMPLE_RATE);
  const audio = await ctx.decodeAudioData(bytes);
  const n = audio.length;
  const out = new Int16Array(n);
  const channels = [];
  for (let c = 0; c < audio.numberOfChannels; c++) channels.push(audio.getChannelData(c));
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (const ch of channels) s += ch[i];
    s /= channels.length;
    out[i] = Math.max(-32768, Math.min(32767, Math.round(s * 32767)));
  }
  return out;
}

/**
 * Sends `pcm` over `send(chunk)` in CHUNK_MS pieces, paced by the wall clock (a little ahead, so the
 * server never runs dry). Stops early when `signal` aborts.
 */
export async function sendPaced(pcm, send, signal) {
  const perChunk = (SAMPLE_RATE * CHUNK_MS) / 1000;
  const t0 = performance.now();
  for (let off = 0, k = 0; off < pcm.length; off += perChunk, k++) {
    if (signal?.aborted) return;
    const chunk = pcm.subarray(off, Math.min(pcm.length, off + perChunk));
    // copy into its own buffer: a subarray would send the whole underlying buffer
    send(new Int16Array(chunk).buffer);
    const due = t0 + (k + 1) * CHUNK_MS - 2 * CHUNK_MS;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}
