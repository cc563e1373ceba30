import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { encodeNpy, encodeNpyU8, npyHeader, writeNpy, writeNpyAtomic } from '../../../gateway/src/audio/npy';
import { parseNpy } from '../../helpers/audio-clips';

describe('npy', () => {
  it('should write a version 1.0 header padded with spaces to 64 bytes and ended by a newline', () => {
    for (const shape of [[80, 195], [3, 1, 80, 16], [7]]) {
      const h = npyHeader(shape);
      expect(h.length % 64).toBe(0);
      expect(h.subarray(0, 8)).toEqual(Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]));
      expect(h.readUInt16LE(8)).toBe(h.length - 10);
      expect(h[h.length - 1]).toBe(0x0a);
    }
    expect(npyHeader([80, 195]).toString('latin1')).toContain("{'descr': '<f4', 'fortran_order': False, 'shape': (80, 195), }");
    expect(npyHeader([7]).toString('latin1')).toContain("'shape': (7,)");
  });

  it('should round-trip values and shape', () => {
    const data = Float32Array.from([0, -4, 4, 1.5, -0.25, 3.140625]);
    const parsed = parseNpy(encodeNpy(data, [2, 3]));
    expect(parsed.shape).toEqual([2, 3]);
    expect(parsed.data).toEqual(data);
  });

  it('should refuse data that does not fill the shape', () => {
    expect(() => encodeNpy(new Float32Array(5), [2, 3])).toThrow(TypeError);
  });

  describe('writeNpyAtomic', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'npy-'));
    });
    afterEach(() => fs.rm(dir, { recursive: true, force: true }));

    it('should write the file from chunks', async () => {
      const target = path.join(dir, 'a.npy');
      await writeNpyAtomic(target, [2, 2], [Float32Array.from([1, 2]), Float32Array.from([3, 4])]);
      expect(parseNpy(await fs.readFile(target)).data).toEqual(Float32Array.from([1, 2, 3, 4]));
      expect(await fs.readdir(dir)).toEqual(['a.npy']);
    });

    it('should leave neither the target nor a temp file when the body is short', async () => {
      const target = path.join(dir, 'b.npy');
      await expect(writeNpyAtomic(target, [2, 2], [Float32Array.from([1, 2])])).rejects.toThrow(TypeError);
      expect(await fs.readdir(dir)).toEqual([]);
    });

    it('should leave no temp file when a chunk source throws midway', async () => {
      function* failing() {
        yield Float32Array.from([1, 2]);
        throw new Error('boom');
      }
      await expect(writeNpyAtomic(path.join(dir, 'c.npy'), [2, 2], failing())).rejects.toThrow('boom');
      expect(await fs.readdir(dir)).toEqual([]);
    });

    it('should replace an existing file only once complete', async () => {
      const target = path.join(dir, 'd.npy');
      await writeNpy(target, Float32Array.from([1]), [1]);
      await writeNpy(target, Float32Array.from([2, 3]), [2]);
      expect(parseNpy(await fs.readFile(target)).data).toEqual(Float32Array.from([2, 3]));
    });
  });
});

describe('npy uint8', () => {
  it('should write a |u1 header and the raw bytes', () => {
    const buf = encodeNpyU8(new Uint8Array([1, 2, 3, 250, 251, 252]), [2, 3]);
    expect(buf.toString('latin1')).toContain("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }");
    expect(Array.from(buf.subarray(buf.length - 6))).toEqual([1, 2, 3, 250, 251, 252]);
    expect(buf.length % 64).toBe(6);
    expect(() => encodeNpyU8(new Uint8Array(5), [2, 3])).toThrow(TypeError);
  });
});
