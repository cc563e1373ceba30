import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeFileAtomic } from '../../../gateway/src/common/atomic-file';
import { linkOrCopy, moveFile } from '../../../gateway/src/jobs/job-files';
import { AvatarStore, AVATAR_RECORD_VERSION, AvatarRecord } from '../../../gateway/src/face/avatar-store';

// Every file a replica may read from the shared DATA_DIR appears complete or not at all. The
// failures are injected half-way through a write (a full disk, a killed process), where a plain
// writeFile/copyFile would leave a truncated file under the final name.
describe('atomic files in DATA_DIR', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atomic-'));
  });
  afterEach(() => {
    jest.restoreAllMocks();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** copyFile that writes half of the source to its destination, then fails like a full disk. */
  function halfCopies(): string[] {
    const dests: string[] = [];
    jest.spyOn(fs.promises, 'copyFile').mockImplementation(async (src, dest) => {
      dests.push(String(dest));
      const bytes = fs.readFileSync(String(src));
      fs.writeFileSync(String(dest), bytes.subarray(0, bytes.length >> 1));
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    });
    return dests;
  }

  /** rename that refuses to cross devices for sources outside `dir`'s target folder. */
  function crossDevice(fromDir: string): void {
    const real = fs.promises.rename.bind(fs.promises);
    jest.spyOn(fs.promises, 'rename').mockImplementation(async (a, b) => {
      if (path.dirname(String(a)) === fromDir) throw Object.assign(new Error('EXDEV: cross-device link'), { code: 'EXDEV' });
      return real(a, b);
    });
  }

  it('should move a file across devices without the target ever holding part of it', async () => {
    const src = path.join(dir, 'upload.bin');
    const out = fs.mkdirSync(path.join(dir, 'avatar'), { recursive: true })!;
    const target = path.join(out, 'face.png');
    fs.writeFileSync(src, Buffer.alloc(64 * 1024, 7));
    crossDevice(dir);
    const dests = halfCopies();
    await expect(moveFile(src, target)).rejects.toThrow(/ENOSPC/);
    expect(dests).toHaveLength(1);
    expect(dests[0]).not.toBe(target); // copied under a temp name…
    expect(fs.readdirSync(out)).toEqual([]); // …removed after the failure; the target never appeared
    expect(fs.existsSync(src)).toBe(true);
  });

  it('should move and copy across devices whole when nothing fails, leaving no temp file', async () => {
    const src = path.join(dir, 'upload.bin');
    const out = fs.mkdirSync(path.join(dir, 'job'), { recursive: true })!;
    const bytes = Buffer.alloc(64 * 1024, 3);
    fs.writeFileSync(src, bytes);
    crossDevice(dir);
    jest.spyOn(fs.promises, 'link').mockRejectedValue(Object.assign(new Error('EXDEV'), { code: 'EXDEV' }));
    await linkOrCopy(src, path.join(out, 'face-copy.png'));
    await moveFile(src, path.join(out, 'face.png'));
    expect(fs.readdirSync(out).sort()).toEqual(['face-copy.png', 'face.png']);
    expect(fs.readFileSync(path.join(out, 'face.png')).equals(bytes)).toBe(true);
    expect(fs.readFileSync(path.join(out, 'face-copy.png')).equals(bytes)).toBe(true);
    expect(fs.existsSync(src)).toBe(false);
  });

  it('should fall back from a link to a copy that never shows a partial file', async () => {
    const src = path.join(dir, 'face.png');
    fs.writeFileSync(src, Buffer.alloc(4096, 1));
    jest.spyOn(fs.promises, 'link').mockRejectedValue(Object.assign(new Error('EXDEV'), { code: 'EXDEV' }));
    halfCopies();
    await expect(linkOrCopy(src, path.join(dir, 'job-face.png'))).rejects.toThrow(/ENOSPC/);
    expect(fs.readdirSync(dir)).toEqual(['face.png']);
  });

  it('should keep the old content when a write fails half-way, and give each writer its own temp name', async () => {
    const target = path.join(dir, 'meta.json');
    await writeFileAtomic(target, '{"v":1}');
    const real = fs.promises.writeFile.bind(fs.promises);
    const temps: string[] = [];
    jest.spyOn(fs.promises, 'writeFile').mockImplementation(async (file, data, opts) => {
      temps.push(file as string);
      if ((data as string).includes('"v":3')) {
        await real(file, (data as string).slice(0, 4), opts);
        throw Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' });
      }
      return real(file, data, opts);
    });
    await writeFileAtomic(target, '{"v":2}');
    await expect(writeFileAtomic(target, '{"v":3}')).rejects.toThrow(/ENOSPC/);
    expect(fs.readFileSync(target, 'utf8')).toBe('{"v":2}');
    expect(fs.readdirSync(dir)).toEqual(['meta.json']);
    expect(new Set(temps).size).toBe(2); // two replicas writing one meta.json never share a temp file
    expect(temps.every((t) => t !== target && path.dirname(t) === dir)).toBe(true);
  });

  it('should write avatar box records (the shared avatar cache) atomically', async () => {
    const store = new AvatarStore(dir);
    const rec: AvatarRecord = {
      version: AVATAR_RECORD_VERSION,
      key: 'ab'.repeat(16),
      width: 8,
      height: 8,
      frameCount: 1,
      isVideo: false,
      detector: 'test',
      detections: [],
      boxes: [[0, 0, 8, 8]],
      face: { faces: [], selected: 0, method: 'manual' } as unknown as AvatarRecord['face'],
      createdAt: new Date().toISOString(),
    };
    await store.write(rec);
    jest.spyOn(fs.promises, 'writeFile').mockImplementation(async (file, data) => {
      fs.writeFileSync(file as string, (data as string).slice(0, 10));
      throw Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' });
    });
    await expect(store.write({ ...rec, width: 16 })).rejects.toThrow(/ENOSPC/);
    expect((await store.read(rec.key))?.width).toBe(8);
    expect(fs.readdirSync(dir)).toEqual([`${rec.key}.json`]);
  });
});
