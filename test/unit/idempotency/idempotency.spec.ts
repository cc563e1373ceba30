import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FileIdempotencyStore } from '../../../gateway/src/idempotency/file-idempotency.store';
import { IdempotencyService } from '../../../gateway/src/idempotency/idempotency.service';
import { KvIdempotencyStore } from '../../../gateway/src/idempotency/kv-idempotency.store';
import { MemoryKeyValueStore } from '../../../gateway/src/redis/kv-store';
import {
  canonicalJson,
  idempotencyScope,
  recordName,
  requestFingerprint,
  validIdempotencyKey,
} from '../../../gateway/src/idempotency/request-fingerprint';

describe('request fingerprint', () => {
  it('should ignore field order and absent fields, and see every value, file and route', () => {
    expect(canonicalJson({ b: 1, a: { y: [1, 'x'], x: undefined } })).toBe('{"a":{"y":[1,"x"]},"b":1}');
    const base = requestFingerprint('POST /v1/jobs', { fps: 25, text: 'Hi' }, { face: 'aa' });
    expect(requestFingerprint('POST /v1/jobs', { text: 'Hi', fps: 25, voice: undefined }, { face: 'aa' })).toBe(base);
    expect(requestFingerprint('POST /v1/jobs', { text: 'Hi', fps: 24 }, { face: 'aa' })).not.toBe(base);
    expect(requestFingerprint('POST /v1/jobs', { text: 'Hi', fps: 25 }, { face: 'ab' })).not.toBe(base);
    expect(requestFingerprint('POST /v1/avatars', { text: 'Hi', fps: 25 }, { face: 'aa' })).not.toBe(base);
    expect(requestFingerprint('POST /v1/jobs', { text: 'Hi', fps: 25, faceUrl: 'https://x/a.png' }, {})).not.toBe(
      requestFingerprint('POST /v1/jobs', { text: 'Hi', fps: 25, faceUrl: 'https://x/b.png' }, {}),
    );
  });

  it('should accept 1–255 visible ASCII characters as a key', () => {
    expect(validIdempotencyKey(undefined)).toBeUndefined();
    expect(validIdempotencyKey('8e0f5d7c-1b2a-4c3d')).toBe('8e0f5d7c-1b2a-4c3d');
    for (const bad of ['', 'a b', 'x'.repeat(256), 'ключ', ['a', 'b']]) expect(() => validIdempotencyKey(bad)).toThrow(/Idempotency-Key/);
  });

  it('should scope keys per API key and never store the raw key', () => {
    expect(idempotencyScope('k1')).not.toBe(idempotencyScope('k2'));
    expect(idempotencyScope(undefined)).toBe('open');
    const name = recordName(idempotencyScope('k1'), 'my-key');
    expect(name).toMatch(/^[a-f0-9]{64}$/);
    expect(name).not.toBe(recordName(idempotencyScope('k2'), 'my-key'));
  });
});

describe(IdempotencyService.name, () => {
  let dir: string;
  let file: string;
  let sut: IdempotencyService;
  const headers = (key?: string, apiKey = 'k1') => ({ authorization: `Bearer ${apiKey}`, ...(key ? { 'idempotency-key': key } : {}) });

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idem-'));
    file = path.join(dir, 'upload.bin');
    fs.writeFileSync(file, 'face bytes');
    sut = new IdempotencyService(new FileIdempotencyStore(path.join(dir, 'records')), { ttlSeconds: 60, apiKeys: ['k1', 'k2'] });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  let created = 0;
  const create =
    (delay = 0) =>
    async () => {
      await new Promise((r) => setTimeout(r, delay));
      created++;
      return { id: `job-${created}`, body: { id: `job-${created}` } };
    };
  const req = (key: string | undefined, fields: object = { fps: 25 }, apiKey = 'k1') => ({
    headers: headers(key, apiKey),
    route: 'POST /v1/jobs',
    fields,
    files: { face: { path: file } },
  });

  beforeEach(() => (created = 0));

  it('should create once for concurrent duplicates and replay the same id', async () => {
    const outs = await Promise.all([0, 1, 2].map(() => sut.run(req('K'), create(30), () => undefined)));
    expect(created).toBe(1);
    expect(outs.map((o) => o.body)).toEqual([{ id: 'job-1' }, { id: 'job-1' }, { id: 'job-1' }]);
    expect(outs.map((o) => o.replayed).sort()).toEqual([false, true, true]);
  });

  it('should replay the current view when there is one, refuse a different request, and scope by API key', async () => {
    await sut.run(req('K'), create(), () => undefined);
    expect(await sut.run(req('K'), create(), (id) => ({ id, status: 'running' }))).toEqual({
      body: { id: 'job-1', status: 'running' },
      replayed: true,
    });
    await expect(sut.run(req('K', { fps: 30 }), create(), () => undefined)).rejects.toMatchObject({ code: 'IDEMPOTENCY_MISMATCH' });
    fs.writeFileSync(file, 'other face bytes');
    await expect(sut.run(req('K'), create(), () => undefined)).rejects.toMatchObject({ code: 'IDEMPOTENCY_MISMATCH' });
    expect((await sut.run(req('K', { fps: 25 }, 'k2'), create(), () => undefined)).replayed).toBe(false); // another API key's K
    expect(created).toBe(2);
    await sut.run(req(undefined), create(), () => undefined); // no key: no idempotency
    await sut.run(req(undefined), create(), () => undefined);
    expect(created).toBe(4);
  });

  it('should forget a key whose first request failed, and keep records across a restart', async () => {
    await expect(
      sut.run(
        req('F'),
        async () => Promise.reject(new Error('boom')),
        () => undefined,
      ),
    ).rejects.toThrow('boom');
    expect((await sut.run(req('F'), create(), () => undefined)).replayed).toBe(false);
    const restarted = new IdempotencyService(new FileIdempotencyStore(path.join(dir, 'records')), {
      ttlSeconds: 60,
      apiKeys: ['k1', 'k2'],
    });
    expect(await restarted.run(req('F'), create(), () => undefined)).toEqual({ body: { id: 'job-1' }, replayed: true });
  });

  it('should expire records after the TTL and drop pending claims of a previous run at start', async () => {
    const store = new FileIdempotencyStore(path.join(dir, 'records'));
    await sut.run(req('E'), create(), () => undefined);
    const pending = {
      fingerprint: 'x',
      route: 'POST /v1/jobs',
      state: 'pending' as const,
      createdAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    };
    expect(await store.claim('b'.repeat(64), pending, Date.now())).toEqual({ kind: 'claimed' });
    expect(await store.claim('b'.repeat(64), pending, Date.now())).toMatchObject({ kind: 'exists' });
    expect(await sut.sweep(false)).toBe(0); // nothing expired, the claim is fresh
    expect(await sut.sweep(true)).toBe(1); // at start: the leftover claim goes
    expect(await sut.sweep(false, Date.now() + 61_000)).toBe(1); // past the TTL: the done record goes
    expect((await sut.run(req('E'), create(), () => undefined)).replayed).toBe(false);
    expect(fs.readdirSync(path.join(dir, 'records')).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});

describe(KvIdempotencyStore.name, () => {
  // MemoryKeyValueStore has the semantics the Redis one has (SET NX, EX): the store logic is the same.
  const make = (now = { t: Date.now() }) => {
    const kv = new MemoryKeyValueStore(() => now.t);
    return { now, sut: new IdempotencyService(new KvIdempotencyStore(kv), { ttlSeconds: 60, apiKeys: [] }) };
  };
  const req = (fields: object) => ({ headers: { 'idempotency-key': 'K' }, route: 'POST /v1/jobs', fields, files: {} });

  it('should create once for concurrent duplicates, refuse a mismatch and release a failure', async () => {
    const { sut } = make();
    let n = 0;
    const create = async () => {
      await new Promise((r) => setTimeout(r, 20));
      n++;
      return { id: `job-${n}`, body: { id: `job-${n}` } };
    };
    const outs = await Promise.all([1, 2, 3].map(() => sut.run(req({ fps: 25 }), create, async () => undefined)));
    expect(n).toBe(1);
    expect(outs.map((o) => o.body)).toEqual([{ id: 'job-1' }, { id: 'job-1' }, { id: 'job-1' }]);
    await expect(sut.run(req({ fps: 30 }), create, () => undefined)).rejects.toMatchObject({ code: 'IDEMPOTENCY_MISMATCH' });
    const other = { headers: { 'idempotency-key': 'F' }, route: 'POST /v1/jobs', fields: {}, files: {} };
    await expect(
      sut.run(
        other,
        () => Promise.reject(new Error('boom')),
        () => undefined,
      ),
    ).rejects.toThrow('boom');
    expect((await sut.run(other, create, () => undefined)).replayed).toBe(false);
  });

  it('should let a key expire with the TTL', async () => {
    const clock = { t: Date.now() };
    const { sut } = make(clock);
    let n = 0;
    const create = async () => ({ id: `job-${++n}`, body: { id: `job-${n}` } });
    await sut.run(req({}), create, () => undefined);
    expect((await sut.run(req({}), create, () => undefined)).replayed).toBe(true);
    clock.t += 61_000;
    expect((await sut.run(req({ other: 1 }), create, () => undefined)).replayed).toBe(false);
  });
});
