import request from 'supertest';
import { redoclyLint } from '../helpers/redocly-lint';
import { startApp, tempDataDir, TestApp } from './e2e-helpers';

type Operation = { security?: unknown[]; responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }> };
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

function operations(doc: { paths: Record<string, Record<string, Operation>> }): { route: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([p, item]) =>
    Object.entries(item)
      .filter(([m]) => METHODS.includes(m))
      .map(([m, op]) => ({ route: `${m.toUpperCase()} ${p}`, op })),
  );
}

// The document real generators consume: lint clean under Redocly's recommended rules, plus the
// gateway's own conventions that no Redocly rule checks (JSON errors, public routes = security: []).
describe('OpenAPI document (/docs-json)', () => {
  let t: TestApp;
  let doc: any;
  beforeAll(async () => {
    t = await startApp({ DATA_DIR: tempDataDir('openapi-lint'), INFERENCE_BACKEND: 'fake', API_KEYS: 'lint-key' });
    doc = (await request(t.server).get('/docs-json').expect(200)).body;
  });
  afterAll(() => t?.close());

  it('should have 0 errors and 0 warnings under Redocly recommended rules', async () => {
    const report = await redoclyLint(doc);
    // the problems themselves in the failure message, so whoever broke a rule sees which
    expect(report.problems.map((p) => `${p.severity} ${p.ruleId} ${p.pointer}: ${p.message}`)).toEqual([]);
    expect(report).toMatchObject({ errors: 0, warnings: 0 });
  });

  it('should report a broken rule (the lint test is not blind)', async () => {
    const broken = JSON.parse(JSON.stringify(doc));
    broken.servers = [];
    delete broken.info.license;
    delete broken.security;
    for (const { op } of operations(broken)) delete op.security;
    const report = await redoclyLint(broken);
    const rules = report.problems.map((p) => p.ruleId);
    expect(rules).toEqual(expect.arrayContaining(['no-empty-servers', 'info-license', 'security-defined']));
    expect(report.errors).toBeGreaterThan(0);
    expect(report.warnings).toBeGreaterThan(0);
  });

  it('should declare every error response as the JSON error body, also on routes that answer video', () => {
    const bad: string[] = [];
    for (const { route, op } of operations(doc)) {
      for (const [status, res] of Object.entries(op.responses)) {
        if (Number(status) < 400 || route === 'GET /readyz') continue; // /readyz 503 is its readiness body
        const types = Object.keys(res.content ?? {});
        const ref = res.content?.['application/json']?.schema?.$ref ?? '';
        if (types.join() !== 'application/json' || !ref.endsWith('/ErrorResponseDto'))
          bad.push(`${route} ${status}: ${types.join() || 'no content'}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('should say security: [] exactly on the routes that answer without an API key', async () => {
    const documentedOpen: string[] = [];
    const answersOpen: string[] = [];
    for (const { route, op } of operations(doc)) {
      if (Array.isArray(op.security) && op.security.length === 0) documentedOpen.push(route);
      const [method, p] = route.split(' ');
      // with API_KEYS set, a protected route answers 401 before anything else looks at the request
      const res = await (request(t.server) as any)[method.toLowerCase()](p.replace(/\{[^}]+\}/g, 'x'));
      if (res.status !== 401) answersOpen.push(route);
    }
    expect(documentedOpen.sort()).toEqual(answersOpen.sort());
    expect(documentedOpen).toEqual(expect.arrayContaining(['GET /healthz', 'GET /readyz', 'GET /metrics']));
    expect(doc.security).toEqual(expect.arrayContaining([{ bearer: [] }, { 'api-key': [] }]));
  });

  it('should answer a malformed body on a health route with the documented 400 JSON error', async () => {
    const res = await request(t.server).get('/healthz').set('Content-Type', 'application/json').send('{"not json');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(doc.paths['/healthz'].get.responses['400']).toBeDefined();
  });
});
