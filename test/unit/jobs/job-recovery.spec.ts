import { DataLayout } from '../../../gateway/src/jobs/job-files';
import { MAX_JOB_ATTEMPTS, orphanJobDirs, rebaseReplayedJob, recoveryAction } from '../../../gateway/src/jobs/job-recovery';
import type { JobRecord } from '../../../gateway/src/jobs/job.types';

const ID = '6f1c2b7e-8d9a-4b3c-9e2f-0a1b2c3d4e5f';
const layout = new DataLayout('/srv/data');
const job = (over: Partial<JobRecord> = {}): JobRecord => ({
  id: ID,
  status: 'queued',
  createdAt: '2026-01-01T00:00:00.000Z',
  progress: 0,
  framesDone: 0,
  framesTotal: 0,
  timings: {},
  options: {},
  input: { facePath: `/srv/data/jobs/${ID}/face-ab12.png`, audioPath: `/srv/data/jobs/${ID}/audio-cd34.wav` },
  workDir: `/srv/data/jobs/${ID}`,
  ...over,
});

describe('job recovery rules', () => {
  it('should re-derive workDir, inputs and result from the job id', () => {
    const r = rebaseReplayedJob(
      job({
        workDir: '/home/victim',
        input: { facePath: '/home/victim/face-ab12.png', audioPath: '/etc/audio-cd34.wav' },
        resultPath: '/etc/shadow',
      }),
      layout,
    )!;
    expect(r.workDir).toBe(`/srv/data/jobs/${ID}`);
    expect(r.input).toEqual({ facePath: `/srv/data/jobs/${ID}/face-ab12.png`, audioPath: `/srv/data/jobs/${ID}/audio-cd34.wav` });
    expect(r.resultPath).toBe(`/srv/data/jobs/${ID}/result.mp4`);
  });

  it('should drop records whose id is not a job id or whose input is not a plain name', () => {
    for (const id of ['../../etc', '', 'x'.repeat(36), `${ID}/..`]) expect(rebaseReplayedJob(job({ id }), layout)).toBeUndefined();
    expect(rebaseReplayedJob(job({ input: { facePath: '/srv/data/jobs/..', audioPath: 'a.wav' } }), layout)).toBeUndefined();
    expect(rebaseReplayedJob(job({ input: undefined as never }), layout)).toBeUndefined();
  });

  it('should resume queued and crash-interrupted jobs until the attempts are spent, then fail with JOB_INTERRUPTED', () => {
    expect(recoveryAction(job(), true)).toEqual({ action: 'resume' });
    expect(recoveryAction(job({ status: 'running', attempts: 1 }), true)).toEqual({ action: 'resume' });
    expect(recoveryAction(job({ status: 'running', attempts: MAX_JOB_ATTEMPTS - 1 }), true)).toEqual({ action: 'resume' });
    expect(recoveryAction(job({ status: 'running', attempts: MAX_JOB_ATTEMPTS }), true)).toMatchObject({
      action: 'fail',
      code: 'JOB_INTERRUPTED',
    });
    expect(recoveryAction(job(), false)).toMatchObject({ action: 'fail', code: 'JOB_INTERRUPTED' });
    expect(recoveryAction(job({ status: 'succeeded' }), false)).toEqual({ action: 'keep' });
  });

  it('should name the folders no live record owns', () => {
    expect(orphanJobDirs([ID, 'stray', 'b'], new Set([ID, 'b']))).toEqual(['stray']);
  });
});
