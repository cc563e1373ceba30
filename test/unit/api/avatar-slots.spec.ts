import { Slots } from '../../../gateway/src/api/avatar-slots';

describe(Slots.name, () => {
  it('should run at most max at once, queue up to maxWaiting, refuse more with 503 and hand slots on in order', async () => {
    const sut = new Slots(2, 1);
    const a = await sut.acquire();
    const b = await sut.acquire();
    let cGot = false;
    const c = sut.acquire().then((r) => ((cGot = true), r));
    await expect(sut.acquire()).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    expect(sut.inUse).toBe(2);
    a();
    const releaseC = await c;
    expect(cGot).toBe(true);
    expect(sut.inUse).toBe(2);
    b();
    releaseC();
    releaseC(); // a second call does nothing
    expect(sut.inUse).toBe(0);
  });

  it('should take a waiter whose client went away out of the line (CANCELLED)', async () => {
    const sut = new Slots(1, 4);
    const a = await sut.acquire();
    const ctl = new AbortController();
    const waiting = sut.acquire(ctl.signal);
    ctl.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'CANCELLED' });
    a();
    expect(sut.inUse).toBe(0);
  });
});
