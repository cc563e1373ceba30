import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { AddressInfo } from 'net';
import { promisify } from 'util';
import { ASTRONAUT, makeSpeech, REPO_ROOT } from '../helpers/media';
import { startApp, tempDataDir, TestApp } from './e2e-helpers';

const run = promisify(execFile);
const KEY = 'client-key';

// The document proven by a real generator: openapi-typescript turns the live /docs-json into types, tsc
// type-checks a client program written against them (openapi-fetch), and that program then drives the
// whole flow over HTTP: avatar, job, poll, result, errors.
describe('generated TypeScript client (openapi-typescript + openapi-fetch)', () => {
  let t: TestApp;
  let baseUrl: string;
  let work: string;
  beforeAll(async () => {
    t = await startApp({ DATA_DIR: tempDataDir('openapi-client'), INFERENCE_BACKEND: 'fake', API_KEYS: KEY });
    await t.app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    // under the repo (gitignored .cache/) so the program resolves openapi-fetch and @types/node from node_modules
    fs.mkdirSync(path.join(REPO_ROOT, '.cache'), { recursive: true });
    work = fs.mkdtempSync(path.join(REPO_ROOT, '.cache', 'openapi-client-'));
  });
  afterAll(async () => {
    await t?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('should type-check a client against the generated types and run the whole flow with it', async () => {
    fs.writeFileSync(path.join(work, 'openapi.json'), Buffer.from(await (await fetch(`${baseUrl}/docs-json`)).arrayBuffer()));
    const generator = path.join(REPO_ROOT, 'test', 'helpers', 'openapi-client-types.cjs');
    await run(process.execPath, [generator, path.join(work, 'openapi.json'), path.join(work, 'lipsync-api.d.ts')]);
    fs.copyFileSync(path.join(__dirname, 'openapi-client', 'lipsync-flow.ts'), path.join(work, 'lipsync-flow.ts'));
    const tsconfig = {
      compilerOptions: {
        strict: true,
        target: 'ES2022',
        module: 'node16',
        moduleResolution: 'node16',
        types: ['node'],
        outDir: 'out',
        skipLibCheck: true,
      },
      files: ['lipsync-flow.ts', 'lipsync-api.d.ts'],
    };
    fs.writeFileSync(path.join(work, 'tsconfig.json'), JSON.stringify(tsconfig));
    const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(process.execPath, [tsc, '-p', path.join(work, 'tsconfig.json')]).catch((err: Error & { stdout?: string }) => {
      throw new Error(`the client does not type-check against the generated types:\n${err.stdout ?? err.message}`);
    });

    const speech = path.join(work, 'speech.wav');
    await makeSpeech(speech, 1);
    const { stdout } = await run(process.execPath, [path.join(work, 'out', 'lipsync-flow.js'), baseUrl, KEY, ASTRONAUT, speech], {
      timeout: 240_000,
    });
    const out = JSON.parse(stdout);
    expect(out.health).toBe('ok');
    expect(out.avatar).toMatchObject({ id: expect.stringMatching(/^[a-f0-9]{64}$/), kind: 'image' });
    expect(out.avatar.box.bottom).toBeGreaterThan(out.avatar.box.top);
    expect(out.createdStatus).toBe(202);
    expect(out.job.status).toBe('succeeded');
    expect(out.job.framesTotal).toBeGreaterThanOrEqual(25); // 1 s at 25 fps
    expect(out.job.framesDone).toBe(out.job.framesTotal);
    expect(out.job.result).toMatchObject({ fps: 25, frames: out.job.framesTotal });
    expect(out.result).toMatchObject({ status: 200, contentType: 'video/mp4', box: 'ftyp' });
    expect(out.result.bytes).toBeGreaterThan(1000);
    expect(out.missing).toEqual({ status: 404, code: 'NOT_FOUND' });
    expect(out.incomplete).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect(out.resultError.status).toBe(404);
    expect(out.resultError.contentType).toMatch(/^application\/json/);
  });
});
