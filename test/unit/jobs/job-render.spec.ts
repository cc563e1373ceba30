import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GatewayError } from '../../../gateway/src/common/errors';
import { removeStaleFiles } from '../../../gateway/src/jobs/job-files';
import { newJobRecord, publicJobError, renderFailure, renderRequestOf } from '../../../gateway/src/jobs/job-render';
import type { JobOptions } from '../../../gateway/src/jobs/job.types';

// What both queue drivers share (job-render.ts), so a job reads the same whichever runs it.
describe('job-render', () => {
  const input = { facePath: '/d/jobs/1/face.png', audioPath: '/d/jobs/1/a.wav', audioSeconds: 2 };

  it('should start every job as queued with no progress, its inputs, build timings and extra fields', () => {
    const job = newJobRecord(
      '1',
      '/d/jobs/1',
      { fps: 30 },
      { input, timings: { speech: 12 } },
      {
        webhook: { url: 'http://h/x', state: 'pending', attempts: [] },
      },
      new Date('2026-01-02T03:04:05Z'),
    );
    expect(job).toEqual({
      id: '1',
      status: 'queued',
      createdAt: '2026-01-02T03:04:05.000Z',
      progress: 0,
      framesDone: 0,
      framesTotal: 0,
      timings: { speech: 12 },
      options: { fps: 30 },
      input,
      workDir: '/d/jobs/1',
      webhook: { url: 'http://h/x', state: 'pending', attempts: [] },
    });
  });

  it('should hand the renderer every render option a job may set (face choice and silence included)', () => {
    const options: Required<JobOptions> = {
      fps: 30,
      outputHeight: 480,
      box: [1, 2, 3, 4],
      pads: [0, 10, 0, 0],
      faceIndex: 1,
      facePoint: [5, 6],
      smooth: false,
      encoder: 'libx264',
      quality: 23,
      loop: 'pingpong',
      silence: 'model',
      stream: true,
    };
    const req = renderRequestOf(newJobRecord('1', '/d', options, { input }), '/d/out.mp4');
    const { stream: _s, ...rest } = options;
    expect(req).toEqual({ ...rest, facePath: input.facePath, audioPath: input.audioPath, outPath: '/d/out.mp4', fragmented: true });
  });

  it('should name a deadline abort DEADLINE_EXCEEDED and publish errors without paths or internals', () => {
    const abort = new GatewayError('CANCELLED', 'cancelled');
    expect(renderFailure(abort, true, 90_000)).toMatchObject({ code: 'DEADLINE_EXCEEDED', message: expect.stringMatching(/90 s/) });
    expect(renderFailure(abort, false, 90_000).code).toBe('CANCELLED');
    expect(publicJobError(new GatewayError('AUDIO_UNDECODABLE', 'bad /srv/data/jobs/1/a.wav'))).toEqual({
      code: 'AUDIO_UNDECODABLE',
      message: 'bad <path>',
    });
    expect(publicJobError(new GatewayError('INTERNAL', 'ENOENT /srv/x')).message).toBe('internal error (see the server log)');
  });
});

describe(removeStaleFiles.name, () => {
  it('should remove only files untouched for the given age (stale uploads in a shared DATA_DIR)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uploads-'));
    const old = path.join(dir, 'old');
    fs.writeFileSync(old, 'x');
    fs.writeFileSync(path.join(dir, 'fresh'), 'y');
    fs.mkdirSync(path.join(dir, 'sub'));
    const now = Date.now();
    fs.utimesSync(old, new Date(now - 7200_000), new Date(now - 7200_000));
    expect(await removeStaleFiles(dir, 3600_000, now)).toBe(1);
    expect(fs.readdirSync(dir).sort()).toEqual(['fresh', 'sub']);
    expect(await removeStaleFiles(path.join(dir, 'missing'), 1)).toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
