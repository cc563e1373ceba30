import { StageClock } from '../../../gateway/src/render/stage-clock';

describe(StageClock.name, () => {
  it('should accumulate added time per stage and report each stage to the observer once', () => {
    const seen: [string, number][] = [];
    const sut = new StageClock({ stageDone: (s, ms) => seen.push([s, ms]) });
    sut.add('infer', 10);
    sut.add('infer', 5.04);
    sut.add('encode', 1);
    const t = sut.finish();
    expect(t.infer).toBe(15);
    expect(t.encode).toBe(1);
    expect(t.total).toBeGreaterThanOrEqual(0);
    expect(seen.map(([s]) => s).sort()).toEqual(['encode', 'infer', 'total']);
  });

  it('should count the time of a failing stage and rethrow its error', async () => {
    const sut = new StageClock();
    await expect(
      sut.time('decode', async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(() =>
      sut.timeSync('mel', () => {
        throw new Error('bad');
      }),
    ).toThrow('bad');
    const t = sut.finish();
    expect(t.decode).toBeGreaterThanOrEqual(0);
    expect(Object.keys(t)).toEqual(expect.arrayContaining(['decode', 'mel']));
  });
});
