import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { RequestFilteringHttpAgent } from 'request-filtering-agent';
import { parseAllowHosts } from '../../../gateway/src/outbound/allow-hosts';
import { OutboundHttp } from '../../../gateway/src/outbound/outbound-http';
import { downloadUrl } from '../../../gateway/src/outbound/url-download';
import { LocalServer, loopbackResolver, startLocalServer } from '../../helpers/local-http';

// Real sockets, loopback only: every server listens on 127.0.0.x and every name resolves through a
// resolver the test controls, so nothing can leave the machine even if a check were broken.
describe('URL downloads (address policy on every hop)', () => {
  let origin: LocalServer; // allowlisted (by host:port)
  let other: LocalServer; // 127.0.0.2: loopback, not allowlisted
  let dir: string;
  const BYTES = Buffer.alloc(5000, 0x61);

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'url-download-'));
    other = await startLocalServer((_req, res) => res.end('secret'), '127.0.0.2');
    origin = await startLocalServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      if (u.pathname === '/file') return void res.end(BYTES);
      if (u.pathname === '/redirect') return void res.writeHead(302, { location: u.searchParams.get('to')! }).end();
      if (u.pathname === '/chain') {
        const n = Number(u.searchParams.get('n'));
        return void res.writeHead(302, { location: n > 0 ? `/chain?n=${n - 1}` : '/file' }).end();
      }
      if (u.pathname === '/big') {
        res.writeHead(200); // chunked, no Content-Length: the limit must hold while streaming
        for (let i = 0; i < 20; i++) res.write(BYTES);
        return void res.end();
      }
      if (u.pathname === '/big-declared') return void res.writeHead(200, { 'content-length': String(1 << 30) }).end();
      if (u.pathname === '/hang') return; // never answers
      if (u.pathname === '/trickle') {
        res.writeHead(200); // headers at once, then the body never finishes
        res.write(BYTES.subarray(0, 10));
        return;
      }
      res.writeHead(404).end('no');
    });
  });
  afterAll(async () => {
    await Promise.all([origin?.close(), other?.close()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const client = (allow: string, table: Record<string, string> = {}) => {
    const resolver = loopbackResolver(table);
    return { http: new OutboundHttp({ allowHosts: parseAllowHosts(allow), lookup: resolver.lookup }), resolver };
  };
  const fetchTo = (c: OutboundHttp, url: string, limits = { maxBytes: 50_000, timeoutMs: 20_000 }) =>
    downloadUrl(c, url, 'faceUrl', path.join(dir, `dl-${Math.random().toString(36).slice(2)}.part`), limits);
  const leftovers = () => fs.readdirSync(dir);

  it('should download from an allowlisted host:port', async () => {
    const { http } = client(origin.hostPort);
    const got = await fetchTo(http, origin.url('/file'));
    expect(got.size).toBe(BYTES.length);
    expect(fs.readFileSync(got.path).equals(BYTES)).toBe(true);
    fs.rmSync(got.path);
  });

  it('should refuse 127.0.0.1 when it is not allowlisted, without connecting', async () => {
    const before = origin.requests.length;
    const { http } = client('');
    await expect(fetchTo(http, origin.url('/file'))).rejects.toMatchObject({
      code: 'URL_FORBIDDEN',
      message: expect.stringMatching(/faceUrl.*loopback/),
    });
    // a different port of an allowlisted IP is not allowlisted either
    await expect(fetchTo(client(`127.0.0.1:${origin.port + 1}`).http, origin.url('/file'))).rejects.toMatchObject({
      code: 'URL_FORBIDDEN',
    });
    expect(origin.requests.length).toBe(before);
    expect(leftovers()).toEqual([]);
  });

  it('should refuse a redirect from an allowlisted server to a loopback address that is not allowlisted', async () => {
    const { http } = client(origin.hostPort);
    const before = other.requests.length;
    await expect(fetchTo(http, origin.url(`/redirect?to=${encodeURIComponent(other.url('/'))}`))).rejects.toMatchObject({
      code: 'URL_FORBIDDEN',
    });
    await expect(fetchTo(http, origin.url(`/redirect?to=${encodeURIComponent(`http://127.0.0.1:${other.port}/`)}`))).rejects.toMatchObject({
      code: 'URL_FORBIDDEN',
    });
    expect(other.requests.length).toBe(before);
    expect(leftovers()).toEqual([]);
  });

  it('should refuse a name that the resolver maps to 127.0.0.1, and a redirect to such a name', async () => {
    const { http, resolver } = client(origin.hostPort, { 'files.example.test': '127.0.0.1', 'cdn.example.test': '127.0.0.1' });
    const before = origin.requests.length;
    await expect(fetchTo(http, `http://files.example.test:${origin.port}/file`)).rejects.toMatchObject({
      code: 'URL_FORBIDDEN',
      message: expect.stringMatching(/resolves to a loopback address/),
    });
    expect(resolver.calls).toContain('files.example.test');
    expect(origin.requests.length).toBe(before);
    // the same name, allowlisted, goes through the same resolver: the refusal came from the answer
    const trusted = client(`files.example.test:${origin.port}`, { 'files.example.test': '127.0.0.1' }).http;
    const ok = await fetchTo(trusted, `http://files.example.test:${origin.port}/file`);
    fs.rmSync(ok.path);
    // an allowlisted name that redirects to a name whose DNS answer is loopback
    const hop = client(`files.example.test:${origin.port}`, { 'files.example.test': '127.0.0.1', 'cdn.example.test': '127.0.0.1' }).http;
    const count = origin.requests.length;
    await expect(
      fetchTo(
        hop,
        `http://files.example.test:${origin.port}/redirect?to=${encodeURIComponent(`http://cdn.example.test:${origin.port}/file`)}`,
      ),
    ).rejects.toMatchObject({
      code: 'URL_FORBIDDEN',
    });
    expect(origin.requests.length).toBe(count + 1); // only the redirect itself was served
    expect(leftovers()).toEqual([]);
  });

  it('should rely on request-filtering-agent as a second layer that refuses loopback on its own', async () => {
    const before = origin.requests.length;
    const err = await new Promise<Error>((resolve) => {
      const req = http.get(origin.url('/file'), { agent: new RequestFilteringHttpAgent() }, () => resolve(new Error('connected')));
      req.on('error', resolve);
    });
    expect(err.message).toMatch(/is not allowed/);
    expect(origin.requests.length).toBe(before);
  });

  it('should follow at most 3 redirects', async () => {
    const { http } = client(origin.hostPort);
    const ok = await fetchTo(http, origin.url('/chain?n=2')); // 3 redirects
    fs.rmSync(ok.path);
    await expect(fetchTo(http, origin.url('/chain?n=3'))).rejects.toMatchObject({
      code: 'URL_UNREACHABLE',
      message: expect.stringMatching(/more than 3/),
    });
  });

  it('should stop at the size limit (declared or streamed) and remove the partial file', async () => {
    const { http } = client(origin.hostPort);
    await expect(fetchTo(http, origin.url('/big'))).rejects.toMatchObject({ code: 'URL_TOO_LARGE' });
    await expect(fetchTo(http, origin.url('/big-declared'))).rejects.toMatchObject({ code: 'URL_TOO_LARGE' });
    expect(leftovers()).toEqual([]);
  });

  it('should report HTTP errors, timeouts and bad URLs with their codes', async () => {
    const { http } = client(origin.hostPort);
    await expect(fetchTo(http, origin.url('/missing'))).rejects.toMatchObject({
      code: 'URL_UNREACHABLE',
      message: expect.stringMatching(/HTTP 404/),
    });
    await expect(fetchTo(http, origin.url('/hang'), { maxBytes: 1000, timeoutMs: 300 })).rejects.toMatchObject({
      code: 'URL_UNREACHABLE',
      message: expect.stringMatching(/timed out/),
    });
    // the deadline covers the body too, not only the headers
    await expect(fetchTo(http, origin.url('/trickle'), { maxBytes: 1000, timeoutMs: 300 })).rejects.toMatchObject({
      code: 'URL_UNREACHABLE',
      message: expect.stringMatching(/timed out/),
    });
    await expect(fetchTo(http, 'file:///etc/passwd')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(fetchTo(http, 'not a url')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(fetchTo(http, `http://user:pw@${origin.hostPort}/file`)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(leftovers()).toEqual([]);
  });
});
