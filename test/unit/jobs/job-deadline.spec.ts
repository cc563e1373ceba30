import { armDeadline, jobDeadlineMs } from '../../../gateway/src/jobs/job-deadline';

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

describe(armDeadline.name, () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('should abort and report passed() once the time is up', () => {
    const abort = new AbortController();
    const deadline = armDeadline(abort, 1000);
    jest.advanceTimersByTime(999);
    expect([abort.signal.aborted, deadline.passed()]).toEqual([false, false]);
    jest.advanceTimersByTime(1);
    expect([abort.signal.aborted, deadline.passed()]).toEqual([true, true]);
  });
  it('should neither abort nor report passed() when cleared first, or when aborted for another reason', () => {
    const abort = new AbortController();
    const deadline = armDeadline(abort, 1000);
    abort.abort();
    deadline.clear();
    jest.advanceTimersByTime(5000);
    expect(deadline.passed()).toBe(false);
  });
});
