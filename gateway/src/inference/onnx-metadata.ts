import { promises as fs } from 'fs';

/**
 * Reads ModelProto.metadata_props (field 14: key/value strings, e.g. `precision` written by
 * triton/export_onnx.py) from an ONNX file without loading the graph: the top-level protobuf fields
 * are walked and the large ones (the graph, field 7) are skipped by their length. onnxruntime-node
 * exposes no model metadata, so the backend reads it here to say which precision it serves.
 */
export type ReadAt = (position: number, length: number) => Promise<Uint8Array>;

const METADATA_PROPS = 14;
const MAX_FIELDS = 10_000;

/** A varint at `buf[at]`; returns [value, next offset]. Numbers above 2^53 are not used by these fields. */
export function readVarint(buf: Uint8Array, at: number): [number, number] {
  let value = 0;
  let mul = 1;
  for (let i = at; i < buf.length && i < at + 10; i++) {
    value += (buf[i] & 0x7f) * mul;
    if ((buf[i] & 0x80) === 0) return [value, i + 1];
    mul *= 128;
  }
  throw new RangeError('truncated protobuf varint');
}

/** Key/value pairs of one StringStringEntryProto (key = field 1, value = field 2). */
export function parseStringEntry(buf: Uint8Array): [string, string] {
  let at = 0;
  let key = '';
  let value = '';
  while (at < buf.length) {
    const [tag, afterTag] = readVarint(buf, at);
    if ((tag & 7) !== 2) throw new RangeError('unexpected wire type in metadata entry');
    const [len, start] = readVarint(buf, afterTag);
    const text = Buffer.from(buf.subarray(start, start + len)).toString('utf8');
    if (tag >> 3 === 1) key = text;
    else if (tag >> 3 === 2) value = text;
    at = start + len;
  }
  return [key, value];
}

/** Walks the top-level fields of a ModelProto of `size` bytes. */
export async function readOnnxMetadataFrom(readAt: ReadAt, size: number): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  let pos = 0;
  for (let fields = 0; pos < size && fields < MAX_FIELDS; fields++) {
    const head = await readAt(pos, Math.min(20, size - pos));
    const [tag, afterTag] = readVarint(head, 0);
    const wire = tag & 7;
    let next: number;
    if (wire === 0) next = pos + readVarint(head, afterTag)[1];
    else if (wire === 1) next = pos + afterTag + 8;
    else if (wire === 5) next = pos + afterTag + 4;
    else if (wire === 2) {
      const [len, start] = readVarint(head, afterTag);
      if (tag >> 3 === METADATA_PROPS) {
        const [k, v] = parseStringEntry(await readAt(pos + start, len));
        out[k] = v;
      }
      next = pos + start + len;
    } else throw new RangeError(`unsupported protobuf wire type ${wire}`);
    pos = next;
  }
  return out;
}

/** metadata_props of an ONNX file ({} when it has none). Throws on unreadable files. */
export async function readOnnxMetadata(file: string): Promise<Record<string, string>> {
  const fh = await fs.open(file, 'r');
  try {
    const { size } = await fh.stat();
    const readAt: ReadAt = async (position, length) => {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await fh.read(buf, 0, length, position);
      return buf.subarray(0, bytesRead);
    };
    return await readOnnxMetadataFrom(readAt, size);
  } finally {
    await fh.close();
  }
}
