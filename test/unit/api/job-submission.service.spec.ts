import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { AvatarStore } from '../../../gateway/src/api/avatar-store.service';
import { assertBoxHasArea, JobSubmission } from '../../../gateway/src/api/job-submission.service';
import { JobsService } from '../../../gateway/src/jobs/jobs.service';
import type { Renderer } from '../../../gateway/src/render/render.types';
import type { SpeechSynthesizer } from '../../../gateway/src/speech/speech-synthesizer';

const AVATAR_ID = 'a'.repeat(64);

describe(JobSubmission.name, () => {
  let dataDir: string;
  let jobs: JobsService;
  let avatarFile: string;
  let submission: JobSubmission;

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'submission-'));
    // Renders never end until aborted (close): with concurrency 1 the second job stays queued.
    const idle: Renderer = {
      render: (_req, hooks) =>
        new Promise((_resolve, reject) => hooks?.signal?.addEventListener('abort', () => reject(new Error('stopped')))),
    };
    jobs = new JobsService({ dataDir, concurrency: 1, queueMax: 5, resultTtlSeconds: 60 }, idle);
    jobs.start();
    avatarFile = path.join(dataDir, 'avatars', AVATAR_ID, 'face-1.png');
    fs.mkdirSync(path.dirname(avatarFile), { recursive: true });
    fs.writeFileSync(avatarFile, 'the avatar image');
    const avatars = { facePath: () => avatarFile } as unknown as AvatarStore;
    const speech: SpeechSynthesizer = {
      name: 'stub',
      validate: (req) => req.text,
      synthesize: async (_req, outPath) => {
        fs.writeFileSync(outPath, 'wav');
        return { outPath, ms: 1 };
      },
    };
    submission = new JobSubmission(jobs, avatars, speech, { probe: async () => ({ durationSec: 1 }) });
  });
  afterEach(() => jobs.close());

  const submitWithAvatar = () => submission.submit({ avatarId: AVATAR_ID, text: 'Hi.' }, {});

  it('should give a job that names an avatar its own copy of the face, so deleting the avatar leaves the job intact', async () => {
    await submitWithAvatar(); // takes the only render slot
    const queued = await submitWithAvatar();
    expect(queued.status).toBe('queued');
    expect(path.dirname(queued.input.facePath)).toBe(queued.workDir);
    expect(path.extname(queued.input.facePath)).toBe('.png');
    fs.rmSync(path.dirname(avatarFile), { recursive: true });
    expect(fs.readFileSync(queued.input.facePath, 'utf8')).toBe('the avatar image');
  });

  it('should refuse with NOT_FOUND when the avatar file vanished before the job was built', async () => {
    fs.rmSync(avatarFile);
    await expect(submitWithAvatar()).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(fs.readdirSync(path.join(dataDir, 'jobs'))).toEqual([]);
  });
});

describe('assertBoxHasArea', () => {
  it.each([
    [[10, 80, 20, 90], true],
    [[80, 10, 20, 90], false],
    [[10, 10, 20, 90], false],
    [[10, 80, 90, 20], false],
    [[10, 80, 20, 20], false],
  ])('should judge box %j (accepted: %s)', (box: number[], ok: boolean) => {
    const check = () => assertBoxHasArea(box as [number, number, number, number]);
    if (ok) expect(check).not.toThrow();
    else expect(check).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});
