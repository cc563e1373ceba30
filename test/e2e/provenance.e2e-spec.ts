import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import request from 'supertest';
import { FakeBackend } from '../../gateway/src/inference/fake.backend';
import { makeSpeech } from '../helpers/media';
import { ASTRONAUT, binaryParser, pollJob, REPO_ROOT, startApp, tempDataDir, TestApp } from './e2e-helpers';

// Model licence and provenance (issue 15 item 6): a stamp written by scripts/setup-model.sh for a
// checkpoint the test makes, identified through a checkpoint table the test points at, shows in
// /readyz, in the job's status and in the MP4's metadata tags. The model itself is the fake backend.
describe('model provenance over HTTP', () => {
  let t: TestApp;
  let dataDir: string;
  let speech: string;

  beforeAll(async () => {
    dataDir = tempDataDir('prov');
    const ckpt = path.join(dataDir, 'my-weights.pth');
    fs.writeFileSync(ckpt, crypto.randomBytes(4096));
    const sha = crypto.createHash('sha256').update(fs.readFileSync(ckpt)).digest('hex');
    const table = path.join(dataDir, 'table.json');
    fs.writeFileSync(table, JSON.stringify([{ name: 'wav2lip_gan', file: 'wav2lip_gan.pth', sha256: sha, bytes: 4096 }]));
    const modelDir = path.join(dataDir, 'model', '1');
    fs.mkdirSync(modelDir, { recursive: true });
    const stamp = execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'setup-model.sh'), '--describe'], {
      env: { ...process.env, WAV2LIP_CHECKPOINT: ckpt, MODEL_CHECKPOINT_TABLE: table },
    });
    fs.writeFileSync(path.join(modelDir, 'SOURCE'), stamp);
    t = await startApp(
      { DATA_DIR: dataDir, INFERENCE_BACKEND: 'onnx', MODEL_PATH: path.join(modelDir, 'model.onnx'), MODEL_CHECKPOINT_TABLE: table },
      { backend: new FakeBackend() },
    );
    speech = path.join(dataDir, 'speech.wav');
    await makeSpeech(speech, 1, 'Hello.');
  });
  afterAll(async () => {
    await t?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('should name the model and its licence in /readyz', async () => {
    const res = await request(t.server).get('/readyz').expect(200);
    expect(res.body.model).toEqual({
      name: 'wav2lip_gan',
      origin: 'official',
      licence: expect.stringMatching(/research\/non-commercial/),
      checkpointSha256: expect.stringMatching(/^[a-f0-9]{64}$/),
      precision: 'fp32',
    });
    expect(JSON.stringify(res.body)).not.toContain(dataDir); // no server paths
  });

  it('should show the model in the job status and tag the MP4 as synthetic with its model and licence', async () => {
    const created = await request(t.server).post('/v1/jobs').attach('face', ASTRONAUT).attach('audio', speech).expect(202);
    const job = await pollJob(t.server, created.body.id);
    expect(job.status).toBe('succeeded');
    expect(job.result.model).toMatchObject({ name: 'wav2lip_gan', origin: 'official', licence: expect.stringMatching(/non-commercial/) });
    const mp4 = await request(t.server).get(`/v1/jobs/${job.id}/result`).buffer(true).parse(binaryParser).expect(200);
    const file = path.join(dataDir, 'out.mp4');
    fs.writeFileSync(file, mp4.body);
    const tags = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format_tags', '-of', 'json', file]).toString()).format
      .tags;
    expect(tags).toMatchObject({
      ai_generated: 'true',
      digital_source_type: 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia',
      lipsync_model: 'wav2lip_gan',
      lipsync_model_origin: 'official',
      lipsync_model_licence: expect.stringMatching(/non-commercial/),
    });
    expect(tags.comment).toMatch(/Synthetic \(AI-generated\)/);
  });

  it('should tag a streamed (fragmented) MP4 too', async () => {
    const created = await request(t.server)
      .post('/v1/jobs')
      .attach('face', ASTRONAUT)
      .attach('audio', speech)
      .field('stream', 'true')
      .expect(202);
    const job = await pollJob(t.server, created.body.id);
    expect(job.status).toBe('succeeded');
    const mp4 = await request(t.server).get(`/v1/jobs/${job.id}/result`).buffer(true).parse(binaryParser).expect(200);
    const file = path.join(dataDir, 'stream.mp4');
    fs.writeFileSync(file, mp4.body);
    const tags = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format_tags', '-of', 'json', file]).toString()).format
      .tags;
    expect(tags).toMatchObject({ ai_generated: 'true', lipsync_model: 'wav2lip_gan' });
  });
});
