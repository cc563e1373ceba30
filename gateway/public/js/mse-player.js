// Plays a fragmented MP4 that arrives in pieces (a live session) through Media Source Extensions.
// appendBuffer calls are queued and issued one at a time on `updateend`; playback starts once a
// little is buffered (a jitter margin). After a stall the player rejoins the live edge if it fell far
// behind (media buffered ahead is not lag by itself: the server renders speech faster than real
// time). Old media is removed so a long session does not fill the browser's memory.

export const DEFAULT_MIME = 'video/mp4; codecs="avc1.42E01E, mp4a.40.2"';

const START_MARGIN_S = 1; // buffered ahead before playback starts (a jitter margin: ~1 s of added latency)
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
    this.onWaiting = () => {
      if (this.started && !this.ended) {
        this.stalls++;
        this.lagging = true;
      }
    };
    video.addEventListener('waiting', this.onWaiting);
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
      if (!this.started && end - start >= START_MARGIN_S) {
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

  close() {
    this.video.removeEventListener('waiting', this.onWaiting);
    URL.revokeObjectURL(this.url);
  }
}
