import { jobDeadlineMs } from '../../../gateway/src/jobs/job-deadline';

describe(jobDeadlineMs.name, () => {
  it('should use JOB_TIMEOUT_SECONDS when set', () => {
    expect(jobDeadlineMs(90, 3)).toBe(90_000);
  });
  it('should scale with the audio length otherwise, and assume a long clip when it is unknown', () => {
    expect(jobDeadlineMs(0, 0)).toBe(120_000);
    expect(jobDeadlineMs(undefined, 60)).toBe(720_000);
    expect(jobDeadlineMs(0, 60)).toBeGreaterThan(jobDeadlineMs(0, 10));
    expect(jobDeadlineMs(0, null)).toBe(jobDeadlineMs(0, 600));
  });
});
