import { execFile } from 'child_process';
import { promisify } from 'util';
import WebSocket from 'ws';

const exec = promisify(execFile);

/** A WebSocket session client for the tests: collects binary bytes and JSON events, in order. */
export class SessionClient {
  readonly ws: WebSocket;
  readonly chunks: Buffer[] = [];
  readonly events: any[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: (() => void)[] = [];

  constructor(url: string, headers: Record<string, string> = {}) {
    this.ws = new WebSocket(url, { headers });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) this.chunks.push(data as Buffer);
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- text frames arrive as a Buffer
      else this.events.push(JSON.parse(data.toString()));
      for (const w of this.waiters.splice(0)) w();
    });
  }

  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Resolves when an event matching `pred` has arrived (or the socket closed: then undefined). */
  async waitFor(pred: (e: any) => boolean): Promise<any> {
    let closed = false;
    void this.closed.then(() => {
      closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
    for (;;) {
      const hit = this.events.find(pred);
      if (hit || closed) return hit;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /** Sends PCM at real-time pace on a fixed schedule (chunks of `chunkMs`). */
  async sendRealtime(pcm: Buffer, chunkMs = 40): Promise<void> {
    const step = Math.round((16000 * 2 * chunkMs) / 1000);
    const t0 = Date.now();
    for (let k = 0, o = 0; o < pcm.length; k++, o += step) {
      this.ws.send(pcm.subarray(o, o + step));
      await new Promise((r) => setTimeout(r, Math.max(0, t0 + (k + 1) * chunkMs - Date.now())));
    }
  }
}

/** A 220 Hz tone with a 3 Hz envelope, s16le 16 kHz mono. */
export function tonePcm(seconds: number): Buffer {
  const n = Math.round(seconds * 16000);
  const b = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++)
    b.writeInt16LE(Math.round(9000 * Math.abs(Math.sin((Math.PI * 3 * i) / 16000)) * Math.sin((2 * Math.PI * 220 * i) / 16000)), i * 2);
  return b;
}

export interface ProbedStream {
  codec_name: string;
  codec_type: string;
  start_time: string;
  duration: string;
  nb_read_frames?: string;
}

/** ffprobe with every frame decoded (fragmented MP4 has no frame counts in its header). */
export async function probeFile(file: string): Promise<ProbedStream[]> {
  const { stdout } = await exec('ffprobe', [
    '-v',
    'error',
    '-count_frames',
    '-show_entries',
    'stream=codec_name,codec_type,start_time,duration,nb_read_frames',
    '-of',
    'json',
    file,
  ]);
  return JSON.parse(stdout).streams;
}
