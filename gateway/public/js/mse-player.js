// Plays a fragmented MP4 that arrives in pieces (a live session) through Media Source Extensions.
// appendBuffer calls are queued and issued one at a time on `updateend`; playback starts once a
// little is buffered (a jitter margin) and the stream grows at least about as fast as it plays: a
// server still slower than real time (a CPU model at the start of a `say`, before late frames are
// sent without it) would otherwise drain the margin and stall; it then starts with more buffered,
// at most MAX_START_S. The element stays paused until then. After a stall the player rejoins the
// live edge if it fell far behind (media buffered ahead is not lag by itself: the server renders
// speech faster than real time). Old media is removed so a long session does not fill the
// browser's memory.

export const DEFAULT_MIME = 'video/mp4; codecs="avc1.42E01E, mp4a.40.2"';

const START_MARGIN_S = 1; // buffered ahead before playback starts (a jitter margin: ~1 s of added latency)
const MAX_START_S = 3; // buffered ahead that starts playback whatever the stream's growth
const MIN_START_RATE = 0.8; // media seconds per wall second the stream must grow by to start at the margin
const RATE_WINDOW_MS = 1500; // the growth is measured over this trailing window (or since the first fragment)
const BURST_MS = 250; // media that arrived within this is a burst: as fast as needed
const MAX_BEHIND_S = 2.5; // after a stall, further behind the live edge than this: jump forward
const KEEP_BEHIND_S = 30; // media kept behind the playhead

export class MsePlayer {
  constructor(video) {
    this.video = video;
    this.queue = [];
    this.sourceBuffer = undefined;
    this.ended = false;
    this.started = false;
    this.stalls = 0;
    this.bytes = 0;
    this.error = undefined;
    this.mediaSource = new MediaSource();
    this.opened = new Promise((resolve) => this.mediaSource.addEventListener('sourceopen', resolve, { once: true }));
    this.url = URL.createObjectURL(this.mediaSource);
    video.src = this.url;
    this.lagging = false;
    this.growth = []; // [wall ms, buffered end s] after each append, until playback starts
    this.onWaiting = () => {
      if (this.started && !this.ended) {
        this.stalls++;
        this.lagging = true;
      }
    };
    video.addEventListener('waiting', this.onWaiting);
  }

  /**
   * Call inside a user gesture (the click that starts the session): play() there lets playback start
   * later without another gesture (browsers that require one); pause() at once holds the element
   * until the start margin is buffered.
   */
  unlock() {
    this.video.play().catch(() => undefined); // rejects (AbortError) because of the pause: expected
    this.video.pause();
  }

  /** Creates the SourceBuffer for the stream's type (from the server's `ready` event). */
  async begin(mime) {
    await this.opened;
    const type = mime && MediaSource.isTypeSupported(mime) ? mime : DEFAULT_MIME;
    this.mimeUsed = type;
    this.sourceBuffer = this.mediaSource.addSourceBuffer(type);
    this.sourceBuffer.mode = 'segments';
    this.sourceBuffer.addEventListener('updateend', () => this.afterUpdate());
    this.sourceBuffer.addEventListener('error', () => (this.error = new Error('the browser could not decode the stream')));
    this.pump();
  }

  /** Queues bytes of the stream (init segment first, then fragments in order). */
  append(bytes) {
    this.bytes += bytes.byteLength;
    this.queue.push(bytes);
    this.pump();
  }

  /** No more bytes will come: end the stream once the queue has drained. */
  finish() {
    this.ended = true;
    this.pump();
  }

  bufferedAhead() {
    const b = this.video.buffered;
    return b.length ? b.end(b.length - 1) - this.video.currentTime : 0;
  }

  pump() {
    const sb = this.sourceBuffer;
    if (!sb || sb.updating || this.mediaSource.readyState !== 'open') return;
    if (this.queue.length) {
      try {
        sb.appendBuffer(this.queue.shift());
      } catch (err) {
        this.error = err;
      }
      return;
    }
    if (this.ended) {
      this.mediaSource.endOfStream();
      // a stream shorter than the start margin still plays
      if (!this.started && this.video.buffered.length) {
        this.started = true;
        this.video.play().catch(() => undefined);
      }
    }
  }

  afterUpdate() {
    const v = this.video;
    const b = v.buffered;
    if (b.length) {
      const start = b.start(0);
      const end = b.end(b.length - 1);
      if (!this.started && this.readyToStart(end - start, end)) {
        this.started = true;
        if (v.currentTime < start) v.currentTime = start;
        v.play().catch(() => undefined);
      } else if (this.lagging && end - v.currentTime >= START_MARGIN_S) {
        // keep the live edge: a player that stalled catches up instead of lagging forever
        this.lagging = false;
        if (end - v.currentTime > MAX_BEHIND_S) v.currentTime = end - START_MARGIN_S;
      } else if (v.currentTime - start > KEEP_BEHIND_S + 5 && !this.sourceBuffer.updating) {
        this.sourceBuffer.remove(start, v.currentTime - KEEP_BEHIND_S);
        return;
      }
    }
    this.pump();
  }

  /** Before playback: enough buffered, and the stream keeps up (or enough buffered to ride out its slowness). */
  readyToStart(ahead, end) {
    const now = performance.now();
    this.growth.push([now, end]);
    while (this.growth.length > 1 && now - this.growth[1][0] >= RATE_WINDOW_MS) this.growth.shift();
    if (ahead < START_MARGIN_S) return false;
    if (ahead >= MAX_START_S) return true;
    const [t0, e0] = this.growth[0];
    return now - t0 < BURST_MS || (end - e0) / ((now - t0) / 1000) >= MIN_START_RATE;
  }

  close() {
    this.video.removeEventListener('waiting', this.onWaiting);
    URL.revokeObjectURL(this.url);
  }
}
