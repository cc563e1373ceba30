// A live session from the page: POST /v1/sessions, then the WebSocket /v1/sessions/:id/ws.
// In: JSON {type:'say', text} / {type:'end'} or binary PCM s16le 16 kHz mono.
// Out: binary fMP4 bytes in order (into the MSE player), JSON events ready / ended / error.

import { MsePlayer } from './mse-player.js';
import { sendPaced } from './pcm.js';

export class LiveSession {
  constructor(client, video, { onStatus } = {}) {
    this.client = client;
    this.video = video;
    this.onStatus = onStatus ?? (() => undefined);
    this.state = 'idle';
    this.events = [];
    this.abort = new AbortController();
  }

  /**
   * Opens a session on `avatarId` and starts speaking: `text` through the server's TTS, or `pcm`
   * (an Int16Array at 16 kHz) sent at real-time pace. Resolves once the socket is open.
   */
  async start({ avatarId, voice, fps, outputHeight, text, pcm }) {
    this.state = 'creating';
    this.session = await this.client.createSession({ avatarId, voice: voice || undefined, fps, outputHeight });
    this.player = new MsePlayer(this.video);
    // inside the click's task chain: lets playback start later (after the start margin) without another gesture
    this.player.unlock();
    const ws = new WebSocket(this.client.sessionSocketUrl(this.session.id));
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.closed = new Promise((resolve) => ws.addEventListener('close', resolve, { once: true }));
    ws.addEventListener('message', (m) => this.onMessage(m, { text, pcm }));
    ws.addEventListener('close', (e) => {
      this.player.finish();
      if (this.state !== 'error') this.state = 'closed';
      this.onStatus(
        this.state === 'error' ? this.lastError : `Live session closed${e.code !== 1000 ? ` (code ${e.code})` : ''}.`,
        this.state === 'error',
      );
    });
    await new Promise((resolve, reject) => {
      ws.addEventListener('open', resolve, { once: true });
      ws.addEventListener('error', () => reject(new Error('the live session socket could not be opened')), { once: true });
    });
    this.state = 'open';
    this.onStatus('Live session open; waiting for the stream…');
  }

  onMessage(m, speech) {
    if (typeof m.data !== 'string') {
      this.player.append(new Uint8Array(m.data));
      return;
    }
    let ev;
    try {
      ev = JSON.parse(m.data);
    } catch {
      return;
    }
    this.events.push(ev);
    if (ev.type === 'ready') {
      this.ready = ev;
      this.state = 'live';
      this.player.begin(ev.mime).catch((err) => this.fail(err.message));
      this.onStatus(`Live: ${ev.width ?? '?'}×${ev.height ?? '?'} at ${ev.fps ?? '?'} frames/s.`);
      if (speech.text) this.say(speech.text);
      // an audio file is the whole speech: once it is sent, end the session (flush, ended, close)
      if (speech.pcm) {
        sendPaced(speech.pcm, (b) => this.ws.readyState === WebSocket.OPEN && this.ws.send(b), this.abort.signal).then(() => {
          if (!this.abort.signal.aborted) this.end();
        });
      }
    } else if (ev.type === 'ended') {
      this.state = 'ended';
      this.onStatus('Live session ended.');
    } else if (ev.type === 'error') {
      // a non-fatal error (e.g. a `say` the server refused) leaves the session running
      if (ev.fatal === false) this.onStatus(`Live session: ${ev.code}: ${ev.message}`, true);
      else this.fail(`${ev.code}: ${ev.message}`);
    }
  }

  fail(message) {
    this.state = 'error';
    this.lastError = `Live session error ${message}`;
    this.onStatus(this.lastError, true);
  }

  say(text) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: 'say', text }));
  }

  /** Asks the server to flush what it has buffered, send the rest and close. */
  end() {
    this.abort.abort();
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: 'end' }));
  }

  /** Closes at once (page leaves, or a new session starts). */
  close() {
    this.abort.abort();
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) this.ws.close(1000);
  }

  stats() {
    const q = this.video.getVideoPlaybackQuality?.();
    return {
      id: this.session?.id,
      state: this.state,
      stalls: this.player?.stalls ?? 0,
      bytes: this.player?.bytes ?? 0,
      started: this.player?.started ?? false,
      mime: this.player?.mimeUsed,
      currentTime: this.video.currentTime,
      decodedFrames: q ? q.totalVideoFrames : undefined,
      droppedFrames: q ? q.droppedVideoFrames : undefined,
      events: this.events.map((e) => e.type),
    };
  }
}
