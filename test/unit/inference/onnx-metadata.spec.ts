import { parseStringEntry, readOnnxMetadataFrom, readVarint } from '../../../gateway/src/inference/onnx-metadata';

const varint = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
};
const field = (num: number, bytes: number[]): number[] => [...varint((num << 3) | 2), ...varint(bytes.length), ...bytes];
const str = (s: string): number[] => Array.from(Buffer.from(s, 'utf8'));
const entry = (k: string, v: string): number[] => field(14, [...field(1, str(k)), ...field(2, str(v))]);

describe('ONNX metadata_props reader', () => {
  it('should read varints of several bytes', () => {
    expect(readVarint(new Uint8Array([0xac, 0x02]), 0)).toEqual([300, 2]);
    expect(() => readVarint(new Uint8Array([0x80]), 0)).toThrow(RangeError);
  });

  it('should read a key/value entry', () => {
    expect(parseStringEntry(new Uint8Array([...field(1, str('precision')), ...field(2, str('int8'))]))).toEqual(['precision', 'int8']);
  });

  it('should skip the graph and other fields and collect every metadata entry', async () => {
    const graph = field(7, new Array(5000).fill(7)); // a large length-delimited field it must skip
    const model = new Uint8Array([
      ...varint((1 << 3) | 0),
      ...varint(8), // ir_version (varint)
      ...field(2, str('lipsync-gateway')),
      ...graph,
      ...field(8, [8, 17]),
      ...entry('precision', 'int8'),
      ...entry('wav2lip_source', 'random-seed:0'),
    ]);
    const reads: number[] = [];
    const readAt = async (pos: number, len: number) => {
      reads.push(len);
      return model.subarray(pos, pos + len);
    };
    expect(await readOnnxMetadataFrom(readAt, model.length)).toEqual({ precision: 'int8', wav2lip_source: 'random-seed:0' });
    expect(Math.max(...reads)).toBeLessThan(100); // the graph was never read
  });

  it('should return nothing for a model without metadata', async () => {
    const model = new Uint8Array([...varint(8), ...varint(8)]);
    expect(await readOnnxMetadataFrom(async (p, l) => model.subarray(p, p + l), model.length)).toEqual({});
  });
});
