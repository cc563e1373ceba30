import { JobQueue } from '../../../gateway/src/jobs/job-queue';

const tick = () => new Promise((r) => setImmediate(r));

/** A queue whose runs finish only when the test says so. */
function harness(concurrency: number, queueMax: number) {
  const started: string[] = [];
  const finishers = new Map<string, () => void>();
  const depths: number[] = [];
  const sut = new JobQueue(
    concurrency,
    queueMax,
    (id) =>
      new Promise<void>((resolve) => {
        started.push(id);
        finishers.set(id, resolve);
      }),
    (d) => depths.push(d),
  );
  return { sut, started, depths, finish: async (id: string) => (finishers.get(id)!(), await tick()) };
}

describe(JobQueue.name, () => {
  it('should start jobs in FIFO order up to the concurrency', async () => {
    const { sut, started, finish } = harness(2, 10);
    for (const id of ['a', 'b', 'c', 'd']) sut.enqueue(id);
    expect(started).toEqual(['a', 'b']);
    expect(sut.depth).toBe(2);
    expect(sut.position('c')).toBe(0);
    expect(sut.position('d')).toBe(1);
    await finish('b');
    expect(started).toEqual(['a', 'b', 'c']);
    await finish('a');
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    expect(sut.depth).toBe(0);
  });

  it('should refuse with QUEUE_FULL once queueMax jobs wait', () => {
    const { sut } = harness(1, 2);
    sut.enqueue('run');
    sut.enqueue('w1');
    sut.enqueue('w2');
    expect(() => sut.enqueue('w3')).toThrow(expect.objectContaining({ code: 'QUEUE_FULL' }));
    expect(() => sut.assertRoom()).toThrow(expect.objectContaining({ code: 'QUEUE_FULL' }));
    sut.enqueue('restored', { force: true });
    expect(sut.depth).toBe(3);
  });

  it('should accept a job with queueMax 0 only when a slot is free', async () => {
    const { sut, finish } = harness(1, 0);
    sut.enqueue('a');
    expect(() => sut.enqueue('b')).toThrow(expect.objectContaining({ code: 'QUEUE_FULL' }));
    await finish('a');
    expect(() => sut.enqueue('c')).not.toThrow();
  });

  it('should remove a waiting job and report the depth', () => {
    const { sut, started, depths } = harness(1, 5);
    sut.enqueue('a');
    sut.enqueue('b');
    expect(sut.remove('b')).toBe(true);
    expect(sut.remove('a')).toBe(false); // running, not waiting
    expect(sut.depth).toBe(0);
    expect(started).toEqual(['a']);
    expect(depths[depths.length - 1]).toBe(0);
  });

  it('should start nothing new once paused', async () => {
    const { sut, started, finish } = harness(1, 5);
    sut.enqueue('a');
    sut.enqueue('b');
    sut.pause();
    await finish('a');
    expect(started).toEqual(['a']);
    expect(sut.position('b')).toBe(0);
  });
});
