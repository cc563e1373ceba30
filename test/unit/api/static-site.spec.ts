import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { findPublicDir } from '../../../gateway/src/api/static-site';

describe(findPublicDir.name, () => {
  it('should find gateway/public from the source tree', () => {
    const dir = findPublicDir(path.resolve(__dirname, '../../../gateway/src/api'));
    expect(dir).toBe(path.resolve(__dirname, '../../../gateway/public'));
  });

  it('should find it above a compiled folder such as dist/api, and give undefined when there is none', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lipsync-public-'));
    try {
      const compiled = path.join(root, 'dist', 'api');
      fs.mkdirSync(compiled, { recursive: true });
      expect(findPublicDir(compiled)).toBeUndefined();
      // a folder without index.html is not the page
      fs.mkdirSync(path.join(root, 'gateway', 'public'), { recursive: true });
      expect(findPublicDir(compiled)).toBeUndefined();
      fs.writeFileSync(path.join(root, 'gateway', 'public', 'index.html'), '<!doctype html>');
      expect(findPublicDir(compiled)).toBe(path.join(root, 'gateway', 'public'));
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
