import { randomBytes } from 'crypto';
import { promises as fs } from 'fs';
import * as path from 'path';

/**
 * NumPy .npy (format 1.0) for little-endian float32 C-order arrays: magic, version, u16 header
 * length, then a Python-dict header padded with spaces and ended by '\n' so that the data starts at
 * a multiple of 64 bytes (numpy's own alignment).
 */
const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
const ALIGN = 64;

function checkShape(shape: readonly number[]): void {
  if (!shape.length || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new TypeError(`invalid npy shape (${shape.join(', ')})`);
  }
}

/** The bytes before the data for a '<f4' (default) or '|u1' (uint8) array of `shape`. */
export function npyHeader(shape: readonly number[], descr: '<f4' | '|u1' = '<f4'): Buffer {
  checkShape(shape);
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  const fixed = MAGIC.length + 2 + 2;
  const total = Math.ceil((fixed + dict.length + 1) / ALIGN) * ALIGN;
  const header = dict + ' '.repeat(total - fixed - dict.length - 1) + '\n';
  if (header.length > 0xffff) throw new TypeError('npy header too long for format 1.0');
  const out = Buffer.alloc(fixed + header.length);
  MAGIC.copy(out, 0);
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(header.length, 8);
  out.write(header, fixed, 'latin1');
  return out;
}

/** Little-endian bytes of a float32 array (a view, no copy, on little-endian hosts). */
function float32Bytes(data: Float32Array): Buffer {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    const out = Buffer.alloc(data.length * 4);
    data.forEach((v, i) => out.writeFloatLE(v, i * 4));
    return out;
  }
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** A complete .npy file in memory. */
export function encodeNpy(data: Float32Array, shape: readonly number[]): Buffer {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new TypeError(`npy shape (${shape.join(', ')}) holds ${count} values, data has ${data.length}`);
  return Buffer.concat([npyHeader(shape), float32Bytes(data)]);
}

/**
 * Writes a .npy file atomically: a temp file beside the target, renamed into place only when
 * complete, removed on any failure. The body comes from `chunks` so that large arrays (all mel
 * windows of a long clip) never need to exist in memory at once.
 */
export async function writeNpyAtomic(
  target: string,
  shape: readonly number[],
  chunks: Iterable<Float32Array> | AsyncIterable<Float32Array>,
): Promise<void> {
  const expected = shape.reduce((a, b) => a * b, 1);
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await fs.open(tmp, 'wx');
  let ok = false;
  try {
    await fh.write(npyHeader(shape));
    let written = 0;
    for await (const chunk of chunks) {
      written += chunk.length;
      if (written > expected) throw new TypeError(`npy body exceeds shape (${shape.join(', ')})`);
      await fh.write(float32Bytes(chunk));
    }
    if (written !== expected) throw new TypeError(`npy body has ${written} values, shape needs ${expected}`);
    await fh.close();
    await fs.rename(tmp, target);
    ok = true;
  } finally {
    if (!ok) {
      await fh.close().catch(() => undefined);
      await fs.rm(tmp, { force: true });
    }
  }
}

/** A complete uint8 .npy file in memory (e.g. face crops [N, 96, 96, 3]). */
export function encodeNpyU8(data: Uint8Array, shape: readonly number[]): Buffer {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new TypeError(`npy shape (${shape.join(', ')}) holds ${count} values, data has ${data.length}`);
  return Buffer.concat([npyHeader(shape, '|u1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

/** Convenience: one array written atomically. */
export function writeNpy(target: string, data: Float32Array, shape: readonly number[]): Promise<void> {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new TypeError(`npy shape (${shape.join(', ')}) holds ${count} values, data has ${data.length}`);
  return writeNpyAtomic(target, shape, [data]);
}
