/// <reference lib="dom" />
// (DOM types only for the callbacks that run inside the page)
import request from 'supertest';
import { launchBrowser, TestBrowser } from '../helpers/browser';
import { startApp, tempDataDir, TestApp } from './e2e-helpers';

// helmet's headers on every answer, with a Content-Security-Policy that Swagger UI really runs under
// (checked in headless chromium: it renders every operation and the browser reports no violation).
describe('security headers (helmet)', () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await startApp({ DATA_DIR: tempDataDir('headers'), INFERENCE_BACKEND: 'fake' });
    await new Promise<void>((resolve) => t.server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${t.server.address().port}`;
  });
  afterAll(() => t?.close());

  it('should send the hardening headers on API, error and docs answers', async () => {
    for (const p of ['/v1/avatars', '/v1/jobs/nope', '/healthz', '/docs/']) {
      const res = await request(t.server).get(p);
      expect(res.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
        'cross-origin-resource-policy': 'cross-origin',
      });
      expect(res.headers['x-powered-by']).toBeUndefined();
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toMatch(/media-src 'self' blob: mediastream:/);
      expect(csp).toMatch(/connect-src 'self' ws: wss:/);
      expect(csp).not.toContain('upgrade-insecure-requests');
    }
  });

  describe('Swagger UI in chromium', () => {
    let b: TestBrowser;
    beforeAll(async () => {
      b = await launchBrowser();
    });
    afterAll(() => b?.close());

    it('should render every operation at /docs with no CSP violation', async () => {
      const { page } = b;
      const violations: string[] = [];
      page.on('console', (msg) => {
        if (/Content Security Policy|Refused to/i.test(msg.text())) violations.push(msg.text());
      });
      await page.evaluateOnNewDocument(() => {
        document.addEventListener('securitypolicyviolation', (e) =>
          console.error(`Refused to load: CSP ${e.violatedDirective} ${e.blockedURI}`),
        );
      });
      const doc = (await request(t.server).get('/docs-json').expect(200)).body;
      const operations = Object.values(doc.paths as Record<string, object>).reduce((n, ops) => n + Object.keys(ops).length, 0);
      await page.goto(`${base}/docs`, { waitUntil: 'load' });
      await page.waitForFunction((n) => document.querySelectorAll('.opblock').length >= n, { timeout: 120_000 }, operations);
      expect(await page.$$eval('.opblock', (els) => els.length)).toBe(operations);
      expect(b.errors).toEqual([]);
      expect(violations).toEqual([]);
    });
  });
});
