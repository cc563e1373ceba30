import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const REPO = path.resolve(__dirname, '../../..');
const FIXTURE = path.resolve(__dirname, '../../fixtures/faces/astronaut.png');

/**
 * From dist/ the worker is the emitted .js beside face-detector.js, not the ts-jest bootstrap path, so
 * this compiles the detector as the build does and uses it from plain `node`. The child never calls
 * close(): it must still exit by itself, because an idle detector's worker is unref'd.
 */
describe('FaceApiDetector compiled to JavaScript', () => {
  let outDir: string;

  beforeAll(() => {
    fs.mkdirSync(path.join(REPO, 'tmp'), { recursive: true });
    // inside the repo, so the compiled files resolve tfjs and face-api from its node_modules
    outDir = fs.mkdtempSync(path.join(REPO, 'tmp', 'face-dist-'));
    const tsc = require.resolve('typescript/bin/tsc');
    const flags = [
      '--outDir',
      outDir,
      '--rootDir',
      'gateway/src',
      '--target',
      'ES2022',
      '--module',
      'commonjs',
      '--moduleResolution',
      'node',
    ];
    // the same compiler options as tsconfig.json (the detector's imports reach decorated config and JSON tables)
    const more = [
      '--esModuleInterop',
      '--experimentalDecorators',
      '--emitDecoratorMetadata',
      '--resolveJsonModule',
      '--skipLibCheck',
      '--strict',
      '--types',
      'node',
    ];
    const files = ['gateway/src/face/face-detector.ts', 'gateway/src/face/face-detector.worker.ts', 'gateway/src/face/image.adapter.ts'];
    execFileSync(process.execPath, [tsc, ...flags, ...more, ...files], { cwd: REPO, stdio: 'pipe' });
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
