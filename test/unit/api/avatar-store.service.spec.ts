import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AvatarStore } from '../../../gateway/src/api/avatar-store.service';
import { DataLayout } from '../../../gateway/src/jobs/job-files';

// Two replicas (two AvatarStores on one shared DATA_DIR) creating the same avatar at the same
// moment: both answer, neither deletes the other's folder, and any replica then reads a whole meta.json.
describe(`${AvatarStore.name} on a shared DATA_DIR`, () => {
  it('should let two replicas create the same avatar at once and leave one readable record, no temp files', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'avatars-'));
    const layout = new DataLayout(dataDir);
    layout.ensure();
    let arrived = 0;
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const port = {
      prepare: async () => {
        if (++arrived === 2) open();
        await gate; // both preparations finish together, so their meta.json writes overlap
        return { width: 8, height: 8, frameCount: 1, cached: false, face: undefined, box: () => ({ x1: 1, y1: 2, x2: 7, y2: 8 }) };
      },
    };
    const replicas = [new AvatarStore(layout, port as never), new AvatarStore(layout, port as never)];
    const uploads = [0, 1].map((i) => {
      const p = path.join(layout.uploadsDir, `u${i}`);
      fs.writeFileSync(p, 'the same face bytes');
      return p;
    });
    const made = await Promise.all(replicas.map((r, i) => r.create(uploads[i], { kind: 'image', format: 'png' })));
    expect(made[0].avatarId).toBe(made[1].avatarId);
    const third = new AvatarStore(layout, port as never);
    expect(third.get(made[0].avatarId)).toMatchObject({
      avatarId: made[0].avatarId,
      width: 8,
      box: { top: 2, bottom: 8, left: 1, right: 7 },
    });
    expect(fs.readFileSync(third.facePath(made[0].avatarId), 'utf8')).toBe('the same face bytes');
    const names = fs.readdirSync(layout.avatarDir(made[0].avatarId));
    expect(names).toContain('meta.json');
    expect(names.filter((n) => n.endsWith('.tmp'))).toEqual([]);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('should keep the avatar another replica created when this replica’s creation of the same bytes fails', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'avatars-'));
    const layout = new DataLayout(dataDir);
    layout.ensure();
    let firstDone!: () => void;
    const first = new Promise<void>((r) => (firstDone = r));
    let secondArrived!: () => void;
    const second = new Promise<void>((r) => (secondArrived = r));
    const forgotten: string[] = [];
    const prepared = { width: 8, height: 8, frameCount: 1, cached: false, face: undefined, box: () => ({ x1: 1, y1: 2, x2: 7, y2: 8 }) };
    const forgetContent = async (hash: string) => void forgotten.push(hash);
    // one port per replica (which of the two reaches prepare() first is up to the event loop)
    const succeeding = {
      prepare: async () => {
        await second; // both replicas are preparing: neither found the other's meta.json
        return prepared;
      },
      forgetContent,
    };
    const failing = {
      prepare: async () => {
        secondArrived();
        await first; // the other replica's creation finished (meta.json written) before this one fails
        throw new Error('the client went away');
      },
      forgetContent,
    };
    const [a, b] = [new AvatarStore(layout, succeeding as never), new AvatarStore(layout, failing)];
    const uploads = [0, 1].map((i) => {
      const p = path.join(layout.uploadsDir, `u${i}`);
      fs.writeFileSync(p, 'one face');
      return p;
    });
    const made = a.create(uploads[0], { kind: 'image', format: 'png' }).finally(firstDone);
    const failed = b.create(uploads[1], { kind: 'image', format: 'png' });
    const { avatarId } = await made;
    await expect(failed).rejects.toThrow(/went away/);
    expect(a.get(avatarId).avatarId).toBe(avatarId);
    expect(fs.readFileSync(b.facePath(avatarId), 'utf8')).toBe('one face');
    expect(fs.readdirSync(layout.avatarDir(avatarId))).toHaveLength(2); // meta.json and the face the record names
    expect(forgotten).toEqual([]); // its boxes stay cached
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
});
