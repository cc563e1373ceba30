import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { compactJournal, JobJournal, journalNeedsCompaction, replayJournal } from '../../../gateway/src/jobs/job-journal';
import type { JobRecord } from '../../../gateway/src/jobs/job.types';

const job = (id: string, status: JobRecord['status'], createdAt = '2025-01-01T00:00:00.000Z'): JobRecord => ({
  id,
  status,
  createdAt,
  progress: 0,
  framesDone: 0,
  framesTotal: 0,
  timings: {},
  options: {},
  input: { facePath: '/f', audioPath: '/a' },
  workDir: `/w/${id}`,
});
const line = (e: object) => JSON.stringify(e) + '\n';

describe('replayJournal', () => {
  it('should keep the last snapshot of each job and drop deleted ones', () => {
    const text =
      line({ op: 'put', job: job('a', 'queued') }) +
      line({ op: 'put', job: job('b', 'queued') }) +
      line({ op: 'put', job: job('a', 'running') }) +
      line({ op: 'del', id: 'b' });
    const { jobs, skipped } = replayJournal(text);
    expect([...jobs.keys()]).toEqual(['a']);
    expect(jobs.get('a')!.status).toBe('running');
    expect(skipped).toBe(0);
  });

  it('should skip a torn last line and garbage lines', () => {
    const good = line({ op: 'put', job: job('a', 'succeeded') });
    const { jobs, skipped } = replayJournal(good + 'not json\n' + line({ op: 'what' }) + good.slice(0, 20));
    expect(jobs.get('a')!.status).toBe('succeeded');
    expect(skipped).toBe(3);
  });
});

describe('compactJournal', () => {
  it('should write one put per job in creation order, replaying to the same state', () => {
    const jobs = [job('late', 'queued', '2025-01-02T00:00:00.000Z'), job('early', 'failed', '2025-01-01T00:00:00.000Z')];
    const text = compactJournal(jobs);
    expect(text.trim().split('\n')).toHaveLength(2);
    const replayed = replayJournal(text).jobs;
    expect([...replayed.keys()]).toEqual(['early', 'late']);
    expect(replayed.get('late')).toEqual(jobs[0]);
  });
});

describe(JobJournal.name, () => {
  it('should persist appends and compact them on the next open', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'journal-'));
    const file = path.join(dir, 'jobs.jsonl');
    const sut = new JobJournal(file);
    expect(sut.open().size).toBe(0);
    sut.put(job('a', 'queued'));
    sut.put(job('a', 'running'));
    sut.put(job('b', 'queued'));
    sut.remove('b');
    sut.close();
    expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(4);

    const again = new JobJournal(file);
    const jobs = again.open();
    again.close();
    expect([...jobs.values()].map((j) => [j.id, j.status])).toEqual([['a', 'running']]);
    expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
  });
});

describe('journalNeedsCompaction', () => {
  it.each([
    [10, 0, false],
    [64, 0, true],
    [64, 16, false],
    [400, 99, true],
    [400, 100, false],
  ])('should judge %i lines for %i live jobs (compact: %s)', (lines: number, live: number, expected: boolean) => {
    expect(journalNeedsCompaction(lines, live)).toBe(expected);
  });
});
