import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import request from 'supertest';
import { JobsService } from '../../gateway/src/jobs/jobs.service';
import { ffprobe, makeSpeech } from '../helpers/media';
import { ASTRONAUT, binaryParser, pollJob, startApp, tempDataDir, TestApp } from './e2e-helpers';

// Real pipeline: face-api detection, onnxruntime with the demo Wav2Lip model, ffmpeg. Audio is 1–2 s.
describe('pipeline (onnx backend)', () => {
  let t: TestApp;
  let dataDir: string;
  let speech1s: string;
  let speech2s: string;
  let avatarId: string;

  beforeAll(async () => {
    dataDir = tempDataDir('pipeline');
    // Small batches so a streamed job writes several fragments while it runs.
    t = await startApp({ DATA_DIR: dataDir, INFERENCE_BACKEND: 'onnx', BATCH_SIZE: '8' });
    speech1s = path.join(dataDir, 'speech-1s.wav');
    speech2s = path.join(dataDir, 'speech-2s.wav');
    await makeSpeech(speech1s, 1, 'Hello there.');
    await makeSpeech(speech2s, 2, 'Hello there, how are you today?');
  });
  afterAll(() => t?.close());

  it('should create an avatar, render a job from it and serve an H.264 MP4 with sound', async () => {
    const created = await request(t.server).post('/v1/avatars').attach('file', ASTRONAUT).expect(201);
    avatarId = created.body.avatarId;
    expect(avatarId).toMatch(/^[a-f0-9]{64}$/);
    expect(created.body).toMatchObject({ width: 512, height: 512, frames: 1, kind: 'image' });
    // The fixture's face lies roughly at x 181–264, y 72–173.
    expect(created.body.box.left).toBeGreaterThan(150);
    expect(created.body.box.right).toBeLessThan(300);
    expect(created.body.box.top).toBeGreaterThan(40);
    expect(created.body.box.bottom).toBeLessThan(230);
    await request(t.server).get(`/v1/avatars/${avatarId}`).expect(200, created.body);
    const list = await request(t.server).get('/v1/avatars').expect(200);
    expect(list.body.map((a: any) => a.avatarId)).toContain(avatarId);

    const res = await request(t.server)
      .post('/v1/jobs')
      .field('avatarId', avatarId)
      .field('fps', '25')
      .attach('audio', speech1s)
      .expect(202);
    expect(['queued', 'running']).toContain(res.body.status);
    const job = await pollJob(t.server, res.body.id);
    expect(job.status).toBe('succeeded');
    expect(job.progress).toBe(1);
    expect(job.framesDone).toBe(job.framesTotal);
    expect(job.framesTotal).toBeGreaterThanOrEqual(24);
    for (const stage of ['decode', 'mel', 'infer', 'composite', 'encode', 'total']) expect(job.timings[stage]).toBeGreaterThan(0);
    expect(job.result).toMatchObject({ width: 512, height: 512, fps: 25, backend: 'onnx' });

    const mp4 = await request(t.server).get(`/v1/jobs/${job.id}/result`).buffer(true).parse(binaryParser).expect(200);
    expect(mp4.headers['content-type']).toBe('video/mp4');
    const file = path.join(dataDir, 'download.mp4');
    fs.writeFileSync(file, mp4.body);
    const probe = await ffprobe(file);
    const video = probe.streams.find((s) => s.codec_type === 'video')!;
    expect(video.codec_name).toBe('h264');
    expect(video.r_frame_rate).toBe('25/1');
    expect([video.width, video.height]).toEqual([512, 512]);
    expect(probe.streams.some((s) => s.codec_type === 'audio')).toBe(true);
    expect(Math.abs(Number(probe.format.duration) - 1)).toBeLessThan(0.15);

    // Range requests: a partial download is a 206 with the exact bytes.
    const part = await request(t.server)
      .get(`/v1/jobs/${job.id}/result`)
      .set('Range', 'bytes=100-199')
      .buffer(true)
      .parse(binaryParser)
      .expect(206);
    expect(part.headers['content-range']).toBe(`bytes 100-199/${mp4.body.length}`);
    expect(Buffer.compare(part.body, mp4.body.subarray(100, 200))).toBe(0);
  });

  it('should stream the first bytes of a stream=true job before the job has finished', async () => {
    const res = await request(t.server)
      .post('/v1/jobs')
      .attach('face', ASTRONAUT)
      .attach('audio', speech2s)
      .field('stream', 'true')
      .expect(202);
    const id = res.body.id;
    const jobs = t.app.get(JobsService);
    const address = t.server.listening
      ? t.server.address()
      : await new Promise<any>((r) => t.server.listen(0, () => r(t.server.address())));
    const { statusAtFirstChunk, body, status, contentType } = await new Promise<{
      statusAtFirstChunk: string;
      body: Buffer;
      status: number;
      contentType: string;
    }>((resolve, reject) => {
      http
        .get({ port: address.port, path: `/v1/jobs/${id}/stream` }, (r) => {
          const chunks: Buffer[] = [];
          let first: string | undefined;
          r.on('data', (c: Buffer) => {
            // Read the job's state in-process, at the moment the first bytes arrive.
            first ??= jobs.get(id).status;
            chunks.push(c);
          });
          r.on('end', () =>
            resolve({
              statusAtFirstChunk: first!,
              body: Buffer.concat(chunks),
              status: r.statusCode!,
              contentType: String(r.headers['content-type']),
            }),
          );
          r.on('error', reject);
        })
        .on('error', reject);
    });
    expect(status).toBe(200);
    expect(contentType).toBe('video/mp4');
    expect(['queued', 'running']).toContain(statusAtFirstChunk);
    const job = await pollJob(t.server, id);
    expect(job.status).toBe('succeeded');
    // The streamed bytes are the whole fragmented MP4: identical to the stored result, and playable.
    const stored = await request(t.server).get(`/v1/jobs/${id}/result`).buffer(true).parse(binaryParser).expect(200);
    expect(Buffer.compare(body, stored.body)).toBe(0);
    const file = path.join(dataDir, 'streamed.mp4');
    fs.writeFileSync(file, body);
    const probe = await ffprobe(file);
    expect(probe.streams.find((s) => s.codec_type === 'video')!.codec_name).toBe('h264');
    expect(Math.abs(Number(probe.format.duration) - 2)).toBeLessThan(0.2);

    // A client that connects after the job ended gets the same bytes.
    const late = await request(t.server).get(`/v1/jobs/${id}/stream`).buffer(true).parse(binaryParser).expect(200);
    expect(Buffer.compare(late.body, body)).toBe(0);
  });

  it('should speak a text job with espeak-ng and render it', async () => {
    const res = await request(t.server)
      .post('/v1/jobs')
      .field('avatarId', avatarId)
      .field('text', 'Hi there.')
      .field('voice', 'en-us')
      .field('rate', '200')
      .expect(202);
    expect(res.body.timings.speech).toBeGreaterThan(0);
    const job = await pollJob(t.server, res.body.id);
    expect(job.status).toBe('succeeded');
    expect(job.result.audioSeconds).toBeGreaterThan(0.3);
    const mp4 = await request(t.server).get(`/v1/jobs/${job.id}/result`).buffer(true).parse(binaryParser).expect(200);
    const file = path.join(dataDir, 'text.mp4');
    fs.writeFileSync(file, mp4.body);
    const probe = await ffprobe(file);
    expect(probe.streams.some((s) => s.codec_type === 'audio')).toBe(true);
    expect(Math.abs(Number(probe.format.duration) - job.result.audioSeconds)).toBeLessThan(0.15);
  });

  it('should export the job and stage series on /metrics', async () => {
    const res = await request(t.server).get('/metrics').expect(200);
    const text: string = res.text;
    const succeeded = /lipsync_jobs_total\{status="succeeded"\} (\d+)/.exec(text);
    expect(Number(succeeded?.[1])).toBeGreaterThanOrEqual(3);
    for (const stage of ['decode', 'infer', 'encode', 'total']) {
      expect(text).toMatch(new RegExp(`lipsync_stage_duration_seconds_count\\{stage="${stage}"\\} [1-9]`));
    }
    expect(text).toMatch(/lipsync_inference_batch_size_count\{backend="onnx"\} [1-9]/);
    expect(text).toMatch(/lipsync_inference_batch_duration_seconds_count\{backend="onnx"\} [1-9]/);
    expect(text).toMatch(/^lipsync_queue_depth 0$/m);
    expect(text).toMatch(/^lipsync_inflight_batches 0$/m);
    expect(text).toMatch(/process_cpu_user_seconds_total/);
  });
});
