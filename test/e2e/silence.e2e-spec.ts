import * as fs from 'fs';
import * as path from 'path';
import request from 'supertest';
import { makeSpeech } from '../helpers/media';
import { ASTRONAUT, pollJob, startApp, tempDataDir, TestApp } from './e2e-helpers';

// `silence` on the job API (the pixels are checked in test/medium/render/silence.medium-spec.ts):
// keep is the default and reports the frames that showed the source mouth; model turns it off.
describe('silence option (fake backend)', () => {
  let t: TestApp;
  let dataDir: string;
  let speech: string;

  beforeAll(async () => {
    dataDir = tempDataDir('silence');
    t = await startApp({ DATA_DIR: dataDir, INFERENCE_BACKEND: 'fake' });
    speech = path.join(dataDir, 'speech.wav');
    await makeSpeech(speech, 2.5, 'Hello.'); // short speech, then padded with silence
  });
  afterAll(async () => {
    await t?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const run = async (fields: Record<string, string>) => {
    let req = request(t.server).post('/v1/jobs').attach('face', ASTRONAUT).attach('audio', speech);
    for (const [k, v] of Object.entries(fields)) req = req.field(k, v);
    const created = await req.expect(202);
    return pollJob(t.server, created.body.id);
  };

  it('should keep the source mouth in the silent tail by default and paste every frame with silence=model', async () => {
    const keep = await run({});
    expect(keep.status).toBe('succeeded');
    expect(keep.result.silentFrames).toBeGreaterThan(10);
    expect(keep.result.silentFrames).toBeLessThan(keep.result.frames);
    const model = await run({ silence: 'model' });
    expect(model.options.silence).toBe('model');
    expect(model.result.silentFrames).toBe(0);
  });

  it('should refuse an unknown silence mode with 400 VALIDATION_FAILED', async () => {
    const res = await request(t.server).post('/v1/jobs').attach('face', ASTRONAUT).attach('audio', speech).field('silence', 'mute');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.message).toMatch(/silence/);
  });
});
