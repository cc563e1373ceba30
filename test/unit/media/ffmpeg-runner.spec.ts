import { stderrTail, TailBuffer } from '../../../gateway/src/media/ffmpeg-runner';

describe(TailBuffer.name, () => {
  it('should keep only the last bytes of a long stream', () => {
    const sut = new TailBuffer(10);
    for (let i = 0; i < 100; i++) sut.push(Buffer.from(`line${i}\n`));
    const text = sut.text();
    expect(text.length).toBe(10);
    expect(text.endsWith('line99\n')).toBe(true);
  });
});

describe('stderrTail', () => {
  it('should join the last non-empty lines', () => {
    expect(stderrTail('a\n\nb\r\nc\nd\n', 2)).toBe('c | d');
  });
});
