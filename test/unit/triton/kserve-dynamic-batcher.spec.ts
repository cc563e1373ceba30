import { concatInputs, DynamicBatcher, Execution, sliceOutput, takeCount } from '../../helpers/kserve-dynamic-batcher';

/** A model that tags every output with the request it came from, so slices can be checked for order. */
function recordingBatcher(opts: Partial<ConstructorParameters<typeof DynamicBatcher>[0]> = {}) {
  const runs: string[][] = [];
  const executions: Execution[] = [];
  let gate: Promise<void> = Promise.resolve();
  const batcher = new DynamicBatcher<string, string>(
    { maxBatchSize: 8, maxQueueDelayMs: 5, execMs: 0, merge: true, ...opts },
    async (inputs) => {
      runs.push(inputs);
      await gate;
      return inputs.map((i) => `out:${i}`);
    },
    (e) => executions.push(e),
  );
  const hold = (p: Promise<void>): void => {
    gate = p;
  };
  return { batcher, runs, executions, hold };
}

describe('takeCount (which queued requests one execution takes)', () => {
  it('should take the longest FIFO prefix that fits in max_batch_size frames', () => {
    expect(takeCount([3, 3, 3], 8)).toBe(2);
    expect(takeCount([4, 4, 1], 8)).toBe(2);
    expect(takeCount([1, 2, 3, 2], 8)).toBe(4);
    // never skips ahead: a small request behind one that does not fit waits its turn
    expect(takeCount([6, 4, 1], 8)).toBe(1);
  });

  it('should take one request when merging is off, and nothing from an empty queue', () => {
    expect(takeCount([1, 1, 1], 8, false)).toBe(1);
    expect(takeCount([], 8)).toBe(0);
  });
});

describe('concatInputs / sliceOutput', () => {
  it('should merge inputs in request order and hand each request back its own slice', () => {
    const merged = concatInputs([Uint8Array.of(1, 2), Uint8Array.of(3), Uint8Array.of(4, 5, 6)]);
    expect([...merged]).toEqual([1, 2, 3, 4, 5, 6]);
    const f = concatInputs([Float32Array.of(0.5), Float32Array.of(1.5)]);
    expect(f).toBeInstanceOf(Float32Array);
    expect([...f]).toEqual([0.5, 1.5]);
    const slices = sliceOutput(Uint8Array.of(10, 11, 20, 21, 22, 23), [1, 2], 2);
    expect(slices.map((s) => [...s])).toEqual([
      [10, 11],
      [20, 21, 22, 23],
    ]);
  });

  it('should refuse an output whose size does not match the requests', () => {
    expect(() => sliceOutput(new Uint8Array(5), [1, 2], 2)).toThrow(RangeError);
  });
});

describe('DynamicBatcher', () => {
  it('should merge requests that arrive within the queue delay into one execution and answer each with its slice', async () => {
    const { batcher, runs, executions } = recordingBatcher();
    const answers = await Promise.all([batcher.submit(2, 'a'), batcher.submit(3, 'b'), batcher.submit(1, 'c')]);
    expect(runs).toEqual([['a', 'b', 'c']]);
    expect(answers.map((a) => a.output)).toEqual(['out:a', 'out:b', 'out:c']);
    expect(executions.map((e) => [e.frames, e.requests])).toEqual([[6, 3]]);
    expect(answers.every((a) => a.execution === answers[0].execution)).toBe(true);
  });

  it('should queue requests while the instance is busy and take them together when it frees', async () => {
    const { batcher, runs, hold } = recordingBatcher({ maxQueueDelayMs: 0 });
    let open!: () => void;
    hold(new Promise<void>((r) => (open = r)));
    const first = batcher.submit(4, 'a'); // runs at once (no delay), then blocks in the model
    const rest = [batcher.submit(2, 'b'), batcher.submit(2, 'c'), batcher.submit(4, 'd')];
    expect(runs).toEqual([['a']]);
    expect(batcher.pending).toBe(3);
    hold(Promise.resolve());
    open();
    await Promise.all([first, ...rest]);
    // b + c fill 4 of 8 frames, d (4) still fits: one execution; order kept
    expect(runs).toEqual([['a'], ['b', 'c', 'd']]);
  });

  it('should never exceed max_batch_size frames in one execution', async () => {
    const { batcher, executions } = recordingBatcher({ maxBatchSize: 8 });
    await Promise.all([3, 3, 3, 5, 8, 1].map((n, i) => batcher.submit(n, `r${i}`)));
    expect(executions.map((e) => e.frames)).toEqual([6, 8, 8, 1]);
    expect(Math.max(...executions.map((e) => e.frames))).toBeLessThanOrEqual(8);
  });

  it('should run a full batch without waiting out the queue delay', async () => {
    const { batcher, runs } = recordingBatcher({ maxQueueDelayMs: 60_000 });
    await Promise.all([batcher.submit(4, 'a'), batcher.submit(4, 'b')]); // 8 = max: no 60 s wait
    expect(runs).toEqual([['a', 'b']]);
  });

  it('should give each request its own execution when merging is off', async () => {
    const { batcher, runs } = recordingBatcher({ merge: false });
    await Promise.all([batcher.submit(1, 'a'), batcher.submit(1, 'b')]);
    expect(runs).toEqual([['a'], ['b']]);
  });

  it('should make an execution last at least execMs and report queue and compute time per request', async () => {
    const { batcher } = recordingBatcher({ execMs: 30, maxQueueDelayMs: 0 });
    const [a, b] = await Promise.all([batcher.submit(1, 'a'), batcher.submit(1, 'b')]);
    expect(a.computeNs).toBeGreaterThanOrEqual(29e6);
    // b queued behind a's whole execution
    expect(b.queueNs).toBeGreaterThanOrEqual(a.computeNs * 0.9);
    expect(b.execution).not.toBe(a.execution);
  });

  it('should fail every request of an execution whose model run failed, and go on with the next', async () => {
    let fail = true;
    const batcher = new DynamicBatcher<string, string>({ maxBatchSize: 8, maxQueueDelayMs: 0, execMs: 0, merge: true }, async (inputs) => {
      if (fail) {
        fail = false;
        throw new Error('model broke');
      }
      return inputs;
    });
    const results = await Promise.allSettled([batcher.submit(1, 'a'), batcher.submit(1, 'b')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
  });
});
