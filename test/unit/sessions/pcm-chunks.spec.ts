import { GatewayError } from '../../../gateway/src/common/errors';
import { floatToS16, pcmFromMessage, s16Bytes, s16ToFloat, SampleQueue } from '../../../gateway/src/sessions/pcm-chunks';

describe('pcm chunks', () => {
  it('should read s16le messages of any even size, also from an unaligned buffer', () => {
    const raw = Buffer.alloc(7);
    raw.writeInt16LE(-2, 1);
    raw.writeInt16LE(32767, 3);
    raw.writeInt16LE(-32768, 5);
    expect(Array.from(pcmFromMessage(raw.subarray(1)))).toEqual([-2, 32767, -32768]);
    expect(pcmFromMessage(Buffer.alloc(0))).toHaveLength(0);
  });

  it('should refuse an odd byte count with BAD_MESSAGE', () => {
    const err = (() => {
      try {
        pcmFromMessage(Buffer.alloc(641));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('BAD_MESSAGE');
  });

  it('should convert between s16 and float like ffmpeg, clipping and rounding', () => {
    expect(Array.from(s16ToFloat(Int16Array.of(-32768, 0, 16384)))).toEqual([-1, 0, 0.5]);
    expect(Array.from(floatToS16(Float32Array.of(-1.5, -1, 0.5, 0.99999, 2)))).toEqual([-32768, -32768, 16384, 32767, 32767]);
    expect(s16Bytes(Int16Array.of(1, -1)).equals(Buffer.from([1, 0, 0xff, 0xff]))).toBe(true);
  });
});

describe(SampleQueue.name, () => {
  it('should hand out exact counts across chunk boundaries, in order', () => {
    const sut = new SampleQueue();
    sut.push(Int16Array.of(1, 2, 3));
    sut.push(Int16Array.of(4));
    sut.push(Int16Array.of(5, 6, 7, 8));
    expect(Array.from(sut.take(2))).toEqual([1, 2]);
    expect(Array.from(sut.take(3))).toEqual([3, 4, 5]);
    expect(sut.length).toBe(3);
    expect(Array.from(sut.take(5, true))).toEqual([6, 7, 8, 0, 0]);
    expect(sut.length).toBe(0);
    expect(Array.from(sut.take(2))).toEqual([]);
  });
});
