import { execFile } from 'child_process';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { ASTRONAUT, REPO_ROOT } from '../../helpers/media';

/** `lipsync inspect` through the real entry point (bin/lipsync.js → dist/). */
function lipsync(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(REPO_ROOT, 'bin', 'lipsync.js'), ...args], { maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('lipsync inspect (real face-api and sharp)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'inspect-cli-'));
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it('should write a PNG with the frame and the 96×96 crop ×2 beside it, and report the landmark box', async () => {
    const out = path.join(dir, 'inspect.png');
    const r = await lipsync(['inspect', '--face', ASTRONAUT, '--out', out, '--json']);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const meta = await sharp(out).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 512 + 192 + 16, 512]);
    const summary = JSON.parse(r.stdout);
    expect(summary.method).toBe('landmarks');
    expect(summary.faces).toHaveLength(1);
    // the padded box reaches below the chin (the unpadded box's bottom)
    expect(summary.box.y2).toBeGreaterThan(summary.faceBox.y2);
    // the box outline is drawn in green on the frame; the crop region on the right is not the background
    const { data, info } = await sharp(out).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const px = (x: number, y: number) => Array.from(data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3));
    expect(px(summary.box.x1, Math.round(summary.box.y1 + (summary.box.y2 - summary.box.y1) / 4))).toEqual([0, 255, 0]);
    expect(px(512 + 8 + 96, 8 + 96)).not.toEqual([32, 32, 32]);
  });

  it('should refuse a face index that does not exist with exit 2 and no file', async () => {
    const out = path.join(dir, 'none.png');
    const r = await lipsync(['inspect', '--face', ASTRONAUT, '--out', out, '--face-index', '3']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error NO_FACE_FOUND: faceIndex 3/);
    await expect(fs.stat(out)).rejects.toThrow();
  });
});
