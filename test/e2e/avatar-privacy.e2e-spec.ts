import * as fs from 'fs';
import * as path from 'path';
import request from 'supertest';
import { ASTRONAUT, startApp, tempDataDir, TestApp } from './e2e-helpers';

// Issue 10, items 5 and 10: a deleted avatar leaves no face data behind (upload, meta, box records,
// memory); avatars expire after AVATAR_TTL_SECONDS; two uploads of the same bytes do not race.
describe('avatar privacy (fake backend)', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });
  const records = (dataDir: string) => {
    const dir = path.join(dataDir, 'avatar-cache');
    return fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))) : [];
  };

  it('should remove the upload, its meta and every box record on DELETE, and detect afresh after', async () => {
    const dataDir = tempDataDir('avdel');
    t = await startApp({ DATA_DIR: dataDir, INFERENCE_BACKEND: 'fake' });
    const created = await request(t.server).post('/v1/avatars').attach('file', ASTRONAUT).expect(201);
    const id = created.body.avatarId;
    expect(records(dataDir).filter((r) => r.sourceHash === id)).toHaveLength(1);
    await request(t.server).delete(`/v1/avatars/${id}`).expect(204);
    expect(fs.existsSync(path.join(dataDir, 'avatars', id))).toBe(false);
    expect(records(dataDir).filter((r) => r.sourceHash === id)).toEqual([]);
    // nothing in memory either: the same bytes are detected again, not served from a cache
    const again = await request(t.server).post('/v1/avatars').attach('file', ASTRONAUT).expect(201);
    expect(again.body.cached).toBe(false);
  });

  it('should let two simultaneous uploads of the same bytes both succeed and keep the avatar', async () => {
    const dataDir = tempDataDir('avrace');
    t = await startApp({ DATA_DIR: dataDir, INFERENCE_BACKEND: 'fake' });
    const [a, b] = await Promise.all([0, 1].map(() => request(t!.server).post('/v1/avatars').attach('file', ASTRONAUT)));
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.avatarId).toBe(b.body.avatarId);
    const dir = path.join(dataDir, 'avatars', a.body.avatarId);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('face-'))).toHaveLength(1);
    await request(t.server).get(`/v1/avatars/${a.body.avatarId}`).expect(200);
  });

  it('should delete avatars older than AVATAR_TTL_SECONDS at start', async () => {
    const dataDir = tempDataDir('avttl');
    t = await startApp({ DATA_DIR: dataDir, INFERENCE_BACKEND: 'fake', AVATAR_TTL_SECONDS: '1' });
    const id = (await request(t.server).post('/v1/avatars').attach('file', ASTRONAUT).expect(201)).body.avatarId;
    await t.close();
    await new Promise((r) => setTimeout(r, 1500));
    t = await startApp({ DATA_DIR: dataDir, INFERENCE_BACKEND: 'fake', AVATAR_TTL_SECONDS: '1' });
    for (let i = 0; i < 100 && fs.existsSync(path.join(dataDir, 'avatars', id)); i++) await new Promise((r) => setTimeout(r, 50));
    await request(t.server).get(`/v1/avatars/${id}`).expect(404);
    expect(records(dataDir).filter((r) => r.sourceHash === id)).toEqual([]);
  });
});
