import type { IncomingMessage, Server } from 'http';
import type { Duplex } from 'stream';
import { RawData, WebSocket, WebSocketServer } from 'ws';
import { extractApiKey, isValidApiKey } from '../api/api-key.util';
import { toGatewayError } from '../common/errors';
import type { LiveSession, SessionSink } from './live-session';
import { closeCodeFor, SessionEvent } from './session-protocol';
import type { SessionsService } from './sessions.service';
import { clientAddress, TrustFn, UpgradeThrottle } from './upgrade-throttle';

const WS_PATH = /^\/v1\/sessions\/([A-Za-z0-9-]{1,64})\/ws$/;
/** largest client message: 1 s of PCM is 32 KiB; a say text is small */
const MAX_PAYLOAD = 1024 * 1024;
/** a close handshake the client never answers is cut after this */
const CLOSE_GRACE_MS = 3000;

export interface SessionsSocketOptions {
  apiKeys: readonly string[];
  maxBufferedBytes: number;
  /** the REST rate limit, applied to upgrades before they are accepted (absent: none) */
  throttle?: UpgradeThrottle;
}

/** The API key of an upgrade request: headers as for REST, or `?key=` (browsers cannot set WebSocket headers). */
export function upgradeApiKey(req: Pick<IncomingMessage, 'headers'>, url: URL): string | undefined {
  return extractApiKey(req.headers) ?? url.searchParams.get('key') ?? undefined;
}

/**
 * WebSocket /v1/sessions/:id/ws on the HTTP server's `upgrade` event (plain `ws`, noServer): the
 * path has a parameter and auth must see the upgrade request itself, which a Nest gateway on a
 * fixed path does not give. Refusals after the upgrade are an `error` event plus a close code,
 * which a browser can read (an HTTP status before the upgrade it cannot).
 */
export class SessionsSocket {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD, perMessageDeflate: false });
  private server?: Server;
  private trust: TrustFn = () => false;
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.upgrade(req, socket, head);

  constructor(
    private readonly sessions: SessionsService,
    private readonly opts: SessionsSocketOptions,
  ) {}

  /** `trust`: Express's compiled `trust proxy` (TRUST_PROXY), so an upgrade's client address is the one REST sees. */
  attach(server: Server, trust?: TrustFn): void {
    this.server = server;
    if (trust) this.trust = trust;
    server.on('upgrade', this.onUpgrade);
  }

  async close(): Promise<void> {
    this.server?.off('upgrade', this.onUpgrade);
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const m = WS_PATH.exec(url.pathname);
    if (!m) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (this.opts.throttle) {
      // the rate limit runs before authentication, as for REST: upgrades with bad keys are limited too
      const onError = () => socket.destroy(); // a client gone while the limiter answers
      socket.on('error', onError);
      let verdict;
      try {
        verdict = await this.opts.throttle.check(upgradeApiKey(req, url), clientAddress(req, this.trust));
      } catch {
        verdict = undefined; // the limiter's store is unreachable (Redis down): refuse, as REST does
      } finally {
        socket.off('error', onError);
      }
      if (socket.destroyed) return;
      if (!verdict) return refuse(socket, 503, 'Service Unavailable', 'BACKEND_UNAVAILABLE', 'the rate limiter is unavailable');
      if (!verdict.allowed) {
        const s = verdict.retryAfterSeconds;
        return refuse(socket, 429, 'Too Many Requests', 'RATE_LIMITED', `too many requests; retry after ${s} s`, {
          'Retry-After': String(s),
        });
      }
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.connect(ws, m[1], req, url));
  }

  private connect(ws: WebSocket, id: string, req: IncomingMessage, url: URL): void {
    const sink = this.sink(ws);
    if (this.opts.apiKeys.length > 0 && !isValidApiKey(upgradeApiKey(req, url), this.opts.apiKeys)) {
      sink.event({
        type: 'error',
        code: 'UNAUTHORIZED',
        message: 'a valid API key is required (Authorization: Bearer, X-API-Key or ?key=)',
        fatal: true,
      });
      sink.close(closeCodeFor('UNAUTHORIZED'), 'unauthorized');
      return;
    }
    // Messages that arrive while the session starts wait for it, in order.
    const session: Promise<LiveSession | undefined> = this.sessions.attach(id, sink).catch((err: unknown) => {
      const gw = toGatewayError(err);
      sink.event({ type: 'error', code: gw.code, message: gw.code === 'INTERNAL' ? 'internal error' : gw.message, fatal: true });
      sink.close(closeCodeFor(gw.code), gw.code.toLowerCase());
      return undefined;
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      void session.then((s) => {
        if (!s) return;
        if (isBinary) s.onBinary(toBuffer(data));
        else s.onText(toBuffer(data).toString('utf8'));
      });
    });
    ws.on('close', () => void session.then((s) => s?.stop()));
    ws.on('error', () => ws.terminate());
  }

  private sink(ws: WebSocket): SessionSink {
    const max = this.opts.maxBufferedBytes;
    return {
      binary: (chunk) => {
        if (ws.readyState !== WebSocket.OPEN) return true;
        if (ws.bufferedAmount + chunk.length > max) return false;
        ws.send(chunk, { binary: true });
        return true;
      },
      event: (e: SessionEvent) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(e));
      },
      close: (code, reason) => {
        if (ws.readyState === WebSocket.OPEN) ws.close(code, reason);
        setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
      },
    };
  }
}

/** An HTTP answer instead of the upgrade, with the REST error body ({ error: { code, message } }). */
function refuse(socket: Duplex, status: number, reason: string, code: string, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ error: { code, message } });
  const lines = [
    `HTTP/1.1 ${status} ${reason}`,
    'Connection: close',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
