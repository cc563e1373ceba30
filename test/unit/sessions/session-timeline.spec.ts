import { SessionTimeline } from '../../../gateway/src/sessions/session-timeline';

describe(SessionTimeline.name, () => {
  const make = (fps = 25) => new SessionTimeline({ fps, startMs: 1000, idleAfterMs: 300 });

  it('should place a speech slot for every whole frame of audio, keeping the remainder pending', () => {
    const sut = make();
    expect(sut.addSpeech(1000, 1010)).toEqual([{ index: 0, kind: 'speech', speech: 640, silence: 0, at: 1010 }]);
    expect(sut.pendingSamples).toBe(360);
    expect(sut.addSpeech(1000, 1050).map((s) => s.index)).toEqual([1, 2]);
    expect(sut.pendingSamples).toBe(80);
  });

  it('should not fill with idle frames while the timeline trails the clock by less than idleAfterMs', () => {
    const sut = make();
    expect(sut.tick(1000 + 300)).toEqual([]);
    expect(sut.tick(1000 + 300 + 40).map((s) => s.kind)).toEqual(['idle']);
    expect(sut.tick(1000 + 300 + 200)).toHaveLength(4); // caught up to the clock: 5 slots by 500 ms
    expect(sut.length).toBe(5);
  });

  it('should pad a partial speech slot with silence before idling, and resume speech from the cursor', () => {
    const sut = make();
    sut.addSpeech(700, 1020);
    const t = sut.tick(1000 + 300 + 120); // 3 slots due
    expect(t[0]).toEqual({ index: 1, kind: 'speech', speech: 60, silence: 580, at: 1020 });
    expect(t.slice(1).map((s) => s.kind)).toEqual(['idle']);
    expect(t.every((s) => s.speech + s.silence === 640)).toBe(true);
    expect(sut.addSpeech(640, 1500)).toEqual([{ index: 3, kind: 'speech', speech: 640, silence: 0, at: 1500 }]);
  });

  it('should flush the rest as one padded slot and cover uneven frame sizes at 30 fps exactly', () => {
    const sut = make(30);
    const slots = sut.addSpeech(16_000, 1000);
    expect(slots).toHaveLength(30);
    expect(slots.reduce((a, s) => a + s.speech, 0)).toBe(16_000);
    expect(sut.flush()).toEqual([]);
    sut.addSpeech(10, 1100);
    expect(sut.flush()).toEqual([{ index: 30, kind: 'speech', speech: 10, silence: 523, at: 1100 }]);
    expect(sut.seconds).toBeCloseTo(31 / 30, 3);
  });

  it('should let speech run ahead of the clock (text spoken at once) and idle only once the clock passes it', () => {
    const sut = make();
    sut.addSpeech(16_000 * 2, 1000); // 2 s at once
    expect(sut.tick(1000 + 300 + 1900)).toEqual([]);
    expect(sut.tick(1000 + 300 + 2040)).toHaveLength(1);
  });
});
