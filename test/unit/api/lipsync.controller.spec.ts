import { EventEmitter } from 'events';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Response } from 'express';
import { GatewayError } from '../../../gateway/src/common/errors';
import type { JobSubmission } from '../../../gateway/src/api/job-submission.service';
import { LipsyncController } from '../../../gateway/src/api/lipsync.controller';
import { JobsService } from '../../../gateway/src/jobs/jobs.service';
import type { JobRecord } from '../../../gateway/src/jobs/job.types';
import type { Renderer } from '../../../gateway/src/render/render.types';

/** A response whose client can hang up (emits 'close' like Node's ServerResponse). */
class FakeResponse extends EventEmitter {
  writableFinished = false;
  destroyed = false;
  readonly headers: Record<string, string> = {};
  setHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  hangUp() {
    this.destroyed = true;
    this.emit('close');
  }
}

describe(LipsyncController.name, () => {
  let jobs: JobsService;
  let renders: number;

  beforeEach(() => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lipsync-'));
    renders = 0;
    const renderer: Renderer = {
      render: (_req, hooks) => {
        renders++;
        return new Promise((_resolve, reject) =>
          hooks?.signal?.addEventListener('abort', () => reject(new GatewayError('CANCELLED', 'stopped'))),
        );
      },
    };
    jobs = new JobsService({ dataDir, concurrency: 1, queueMax: 5, resultTtlSeconds: 60 }, renderer);
    jobs.start();
  });
  afterEach(() => jobs.close());

  const addJob = () =>
    jobs.create({}, async (dir) => {
      fs.writeFileSync(path.join(dir, 'f.png'), 'f');
      fs.writeFileSync(path.join(dir, 'a.wav'), 'a');
      return { input: { facePath: path.join(dir, 'f.png'), audioPath: path.join(dir, 'a.wav') } };
    });

  it.each([
    ['while the job is being submitted', false],
    ['before the handler ran (during the upload)', true],
  ])('should cancel the job of a client that hung up %s', async (_when: string, before: boolean) => {
    const res = new FakeResponse();
    if (before) res.hangUp();
    let job: JobRecord | undefined;
    const submission = {
      submit: async () => {
        if (!before) res.hangUp();
        job = await addJob();
        return job;
      },
    } as unknown as JobSubmission;
    const controller = new LipsyncController(jobs, submission);
    await expect(controller.lipsync({}, res as unknown as Response)).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(jobs.get(job!.id).status).toBe('cancelled');
    expect(renders).toBe(1); // it had started; the cancel stopped it
  });
});
