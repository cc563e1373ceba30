import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { compileToJs, REPO } from '../../helpers/compile-to-js';

const FIXTURE = path.resolve(__dirname, '../../fixtures/faces/astronaut.png');

/**
 * From dist/ the worker is the emitted .js beside face-detector.js, not the ts-jest bootstrap path, so
 * this compiles the detector as the build does and uses it from plain `node`. The child never calls
 * close(): it must still exit by itself, because an idle detector's worker is unref'd.
 */
describe('FaceApiDetector compiled to JavaScript', () => {
  let outDir: string;

  beforeAll(() => {
    // the detector's imports reach the decorated config and JSON tables: compiled with the project's options
    outDir = compileToJs('face-dist', [
      'gateway/src/face/face-detector.ts',
      'gateway/src/face/face-detector.worker.ts',
      'gateway/src/face/image.adapter.ts',
    ]);
  });
  afterAll(() => fs.rmSync(outDir, { recursive: true, force: true }));

  it('should detect the astronaut face from the emitted .js and let the process exit without close()', () => {
    expect(fs.existsSync(path.join(outDir, 'face', 'face-detector.worker.js'))).toBe(true);
    const script = `
      const fs = require('fs');
      const { FaceApiDetector } = require(${JSON.stringify(path.join(outDir, 'face', 'face-detector.js'))});
      const { ImageAdapter } = require(${JSON.stringify(path.join(outDir, 'face', 'image.adapter.js'))});
      (async () => {
        const img = await new ImageAdapter().decode(fs.readFileSync(${JSON.stringify(FIXTURE)}), 1 << 24);
        const faces = await new FaceApiDetector().detect(img.data, img.width, img.height);
        process.stdout.write('FACES' + JSON.stringify(faces));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const out = execFileSync(process.execPath, ['-e', script], { cwd: REPO, stdio: 'pipe', timeout: 120_000 }).toString();
    const faces = JSON.parse(out.slice(out.indexOf('FACES') + 5)) as { box: { x1: number; y1: number; x2: number; y2: number } }[];
    expect(faces).toHaveLength(1);
    const { x1, y1, x2, y2 } = faces[0].box;
    // centre inside the known face region x 181–264, y 72–173
    expect((x1 + x2) / 2).toBeGreaterThan(181);
    expect((x1 + x2) / 2).toBeLessThan(264);
    expect((y1 + y2) / 2).toBeGreaterThan(72);
    expect((y1 + y2) / 2).toBeLessThan(173);
  });
});
