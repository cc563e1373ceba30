import { execFile } from 'child_process';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';

/** Test helpers for the audio front end: clips made with espeak-ng/ffmpeg, the python reference, .npy reading. */
const exec = promisify(execFile);

export const PYTHON = '/usr/bin/python3';
export const MEL_REFERENCE = path.resolve(__dirname, '..', 'reference', 'wav2lip_mel_reference.py');

export function tempDir(prefix = 'audio-test-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function ffmpeg(args: string[]): Promise<void> {
  await exec('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
}

/** espeak-ng speech (22.05 kHz mono s16 WAV). */
export async function espeak(out: string, text: string): Promise<void> {
  await exec('espeak-ng', ['-v', 'en-us', '-s', '165', '-w', out, text]);
}

/** Speech resampled to a 16 kHz mono PCM-16 WAV. */
export async function speech16k(dir: string, text = 'The quick brown fox jumps over the lazy dog.'): Promise<string> {
  const raw = path.join(dir, 'speech-raw.wav');
  const out = path.join(dir, 'speech16k.wav');
  await espeak(raw, text);
  await ffmpeg(['-i', raw, '-ar', '16000', '-ac', '1', '-c:a', 'pcm_s16le', out]);
  return out;
}

/** A 44-byte PCM WAV header that announces `dataBytes` of 16 kHz mono s16 but carries none. */
export function headerOnlyWav(dataBytes = 0): Buffer {
  const b = Buffer.alloc(44);
  b.write('RIFF', 0, 'latin1');
  b.writeUInt32LE(36 + dataBytes, 4);
  b.write('WAVEfmt ', 8, 'latin1');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(16000, 24);
  b.writeUInt32LE(32000, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'latin1');
  b.writeUInt32LE(dataBytes, 40);
  return b;
}

/** Runs the python reference (or any python snippet file) and returns stdout. */
export async function python(args: string[]): Promise<string> {
  const { stdout } = await exec(PYTHON, args, { maxBuffer: 64 << 20 });
  return stdout;
}

export async function pythonEval(code: string, args: string[] = []): Promise<string> {
  return python(['-c', code, ...args]);
}

export async function writeF32(file: string, data: Float32Array): Promise<void> {
  await fs.writeFile(file, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
}

export async function readF32(file: string): Promise<Float32Array> {
  const b = await fs.readFile(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

/** Minimal .npy reader for '<f4' C-order files (test side, independent of the writer). */
export function parseNpy(buf: Buffer): { shape: number[]; data: Float32Array; header: string } {
  if (buf.subarray(0, 6).toString('latin1') !== '\x93NUMPY') throw new Error('not an npy file');
  const len = buf.readUInt16LE(8);
  const header = buf.subarray(10, 10 + len).toString('latin1');
  if (!header.includes("'descr': '<f4'") || !header.includes("'fortran_order': False")) throw new Error(`unexpected header ${header}`);
  const shape = (/'shape': \(([^)]*)\)/.exec(header)?.[1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const body = buf.subarray(10 + len);
  return { shape, header, data: new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length)) };
}

/** Reference mel of raw PCM via the python implementation. */
export async function referenceMel(dir: string, pcm: Float32Array, tag = 'ref'): Promise<{ shape: number[]; data: Float32Array }> {
  const inFile = path.join(dir, `${tag}.f32`);
  const outFile = path.join(dir, `${tag}.npy`);
  await writeF32(inFile, pcm);
  await python([MEL_REFERENCE, 'mel', inFile, outFile]);
  return parseNpy(await fs.readFile(outFile));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
