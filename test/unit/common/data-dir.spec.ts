import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { dataDirProblem, defaultDataDir, preparePrivateDataDir } from '../../../gateway/src/common/data-dir';
import { loadConfig } from '../../../gateway/src/config/config';

describe('DATA_DIR', () => {
  it('should default to the XDG state folder, else ~/.local/state, never the temp folder', () => {
    expect(defaultDataDir({ XDG_STATE_HOME: '/var/state' }, '/home/u')).toBe('/var/state/lipsync-gateway');
    expect(defaultDataDir({}, '/home/u')).toBe('/home/u/.local/state/lipsync-gateway');
    expect(defaultDataDir({ XDG_STATE_HOME: 'relative' }, '/home/u')).toBe('/home/u/.local/state/lipsync-gateway');
    expect(loadConfig({ XDG_STATE_HOME: '/var/state' }).dataDir).toBe('/var/state/lipsync-gateway');
    expect(loadConfig({}).dataDir.startsWith(os.tmpdir() + path.sep)).toBe(false);
  });

  it('should refuse a folder of another user, a world-writable one, a symlink and a file', () => {
    const ok = { uid: 1000, mode: 0o40700, isDirectory: true, isSymlink: false };
    expect(dataDirProblem('/d', ok, 1000)).toBeUndefined();
    expect(dataDirProblem('/d', { ...ok, uid: 0 }, 1000)).toMatch(/owned by uid 0/);
    expect(dataDirProblem('/d', { ...ok, mode: 0o41777 }, 1000)).toMatch(/world-writable/);
    expect(dataDirProblem('/d', { ...ok, isSymlink: true }, 1000)).toMatch(/symbolic link/);
    expect(dataDirProblem('/d', { ...ok, isDirectory: false }, 1000)).toMatch(/not a directory/);
  });

  it('should create DATA_DIR 0700, tighten an own folder to 0700 and refuse a world-writable one', () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'datadir-'));
    try {
      const fresh = path.join(base, 'a', 'b');
      preparePrivateDataDir(fresh);
      expect(fs.statSync(fresh).mode & 0o777).toBe(0o700);
      const loose = path.join(base, 'loose');
      fs.mkdirSync(loose);
      fs.chmodSync(loose, 0o755);
      preparePrivateDataDir(loose);
      expect(fs.statSync(loose).mode & 0o777).toBe(0o700);
      const open = path.join(base, 'open');
      fs.mkdirSync(open);
      fs.chmodSync(open, 0o777);
      expect(() => preparePrivateDataDir(open)).toThrow(/refusing to start: .*world-writable/);
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});
