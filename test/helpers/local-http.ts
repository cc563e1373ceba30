import * as http from 'http';
import type { AddressInfo } from 'net';

/** A throwaway HTTP server on a loopback address (port 0), counting the requests it got. */
export interface LocalServer {
  host: string;
  port: number;
  /** host:port, for OUTBOUND_ALLOW_HOSTS */
  hostPort: string;
  url(path?: string): string;
  requests: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }>;
  close(): Promise<void>;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

/** Starts a server on `host` (127.0.0.1 by default; any 127/8 address works on Linux), on a free port unless given. Loopback only. */
export async function startLocalServer(handler: Handler, host = '127.0.0.1', listenPort = 0): Promise<LocalServer> {
  if (!/^127\.\d+\.\d+\.\d+$/.test(host)) throw new Error('tests only listen on loopback addresses');
  const requests: LocalServer['requests'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(listenPort, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    host,
    port,
    hostPort: `${host}:${port}`,
    url: (p = '/') => `http://${host}:${port}${p}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A DNS lookup the test controls: names map to loopback addresses only, anything else is ENOTFOUND. */
export function loopbackResolver(table: Record<string, string>) {
  const calls: string[] = [];
  const lookup = (hostname: string, options: { all?: boolean }, cb: (...args: any[]) => void) => {
    calls.push(hostname);
    const address = table[hostname];
    if (!address || !/^127\./.test(address)) {
      const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
      return process.nextTick(() => cb(err));
    }
    if (options?.all) process.nextTick(() => cb(null, [{ address, family: 4 }]));
    else process.nextTick(() => cb(null, address, 4));
  };
  return { lookup, calls };
}
