import { cpuInt8Summary, formatPrecisionBench } from '../../../gateway/src/inference/precision.bench';

describe('precision bench helpers', () => {
  it('should read the CPU model and its int8 features from /proc/cpuinfo text', () => {
    const text =
      'processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8481C\nflags\t\t: fpu avx2 avx512f avx512_vnni amx_tile amx_int8\n\nprocessor\t: 1\n';
    expect(cpuInt8Summary(text)).toEqual({
      model: 'Intel(R) Xeon(R) Platinum 8481C',
      flags: { avx2: true, avx512f: true, avx512_vnni: true, avx_vnni: false, amx_int8: true, amx_tile: true },
    });
    expect(cpuInt8Summary('').model).toBe('unknown CPU');
    expect(Object.values(cpuInt8Summary('flags : sse2').flags).every((v) => !v)).toBe(true);
  });

  it('should print frames/s and the int8 speed-up per batch size', () => {
    const text = formatPrecisionBench([{ batch: 32, ms: { fp32: 2400, int8: 800 }, speedup: 3 }]);
    expect(text.split('\n')[1]).toMatch(/^\s+32\s+2400\.0\s+800\.0\s+13\.33\s+40\.00\s+3\.00×$/);
  });
});
