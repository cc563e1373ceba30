import { PcmCollector } from '../../../gateway/src/audio/pcm-collector';

describe(PcmCollector.name, () => {
  it('should reassemble samples split across chunks at any byte and grow as needed', () => {
    const samples = Float32Array.from({ length: 5000 }, (_, i) => Math.sin(i) * 0.9);
    const bytes = new Uint8Array(samples.buffer);
    const sut = new PcmCollector(10);
    let off = 0;
    for (const size of [1, 3, 5, 7, 4096, 2, 9999]) {
      sut.push(bytes.subarray(off, Math.min(bytes.length, off + size)));
      off = Math.min(bytes.length, off + size);
    }
    sut.push(bytes.subarray(off));
    expect(sut.samples).toBe(5000);
    expect(sut.result()).toEqual(samples);
  });

  it('should drop a trailing partial sample', () => {
    const sut = new PcmCollector();
    sut.push(new Uint8Array(new Float32Array([0.5]).buffer));
    sut.push(new Uint8Array([1, 2]));
    expect(sut.result()).toEqual(Float32Array.from([0.5]));
  });
});
