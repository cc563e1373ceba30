import { execFileSync } from 'child_process';
import * as path from 'path';

export type TinyVariant = 'good' | 'wrong-name' | 'wrong-dtype' | 'static-batch' | 'wrong-dims';

/** Writes a contract-shaped tiny ONNX model (see make-tiny-model.py) and returns its path; `precision` sets its metadata. */
export function makeTinyModel(dir: string, variant: TinyVariant, precision?: string): string {
  const out = path.join(dir, `tiny-${variant}${precision ? `-${precision}` : ''}.onnx`);
  execFileSync('/usr/bin/python3', [path.join(__dirname, 'make-tiny-model.py'), variant, out, ...(precision ? [precision] : [])], {
    stdio: 'pipe',
  });
  return out;
}

/** Deterministic pseudo-random bytes (LCG), so failures are reproducible. */
export function seededBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

/** What the tiny model computes, written independently of the backend: clamp(face + sum(mel window), 0, 255). */
export function tinyModelExpected(n: number, mel: Float32Array, face: Uint8Array): Uint8Array {
  const melPer = mel.length / n;
  const facePer = face.length / n;
  const out = new Uint8Array(face.length);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let k = 0; k < melPer; k++) sum += mel[i * melPer + k];
    for (let k = 0; k < facePer; k++) out[i * facePer + k] = Math.min(255, Math.max(0, face[i * facePer + k] + sum));
  }
  return out;
}

/** 'same' or where two byte arrays first differ (jest's toEqual walks typed arrays element by element, slowly). */
export function byteDiff(actual: Uint8Array, expected: Uint8Array): string {
  if (actual.length !== expected.length) return `length ${actual.length} vs ${expected.length}`;
  if (
    Buffer.compare(
      Buffer.from(actual.buffer, actual.byteOffset, actual.length),
      Buffer.from(expected.buffer, expected.byteOffset, expected.length),
    ) === 0
  )
    return 'same';
  const i = actual.findIndex((v, k) => v !== expected[k]);
  return `byte ${i}: ${actual[i]} vs ${expected[i]}`;
}
