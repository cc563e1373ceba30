import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Wav2LipBatch } from '../../gateway/src/inference/inference-backend';
import { FACE_ELEMENTS, MEL_WINDOW_ELEMENTS } from '../../gateway/src/inference/model-contract';

const SCRIPT = path.join(__dirname, 'kserve-test-server.tiny-model.py');

/** The real demo model (built by scripts/setup-model.sh). */
export const DEMO_MODEL = path.resolve(__dirname, '../../model_repository/wav2lip/1/model.onnx');

/** Writes the tiny contract-shaped model (mouth = 255 - face) into `dir` and returns its path. */
export function makeTinyWav2LipModel(dir: string = fs.mkdtempSync(path.join(os.tmpdir(), 'tiny-wav2lip-'))): string {
  const out = path.join(dir, 'tiny-wav2lip.onnx');
  execFileSync('/usr/bin/python3', [SCRIPT, out], { stdio: 'pipe' });
  return out;
}

/** A deterministic batch (seeded LCG) so runs can be compared byte for byte. */
export function makeBatch(n: number, seed = 1): Wav2LipBatch {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  const mel = new Float32Array(n * MEL_WINDOW_ELEMENTS).map(() => (next() / 2 ** 32) * 8 - 4);
  const face = new Uint8Array(n * FACE_ELEMENTS).map(() => next() >>> 24);
  return { n, mel, face };
}

/** A free TCP port on 127.0.0.1 nobody listens on (bound then closed), for "unreachable" tests. */
export async function closedPort(): Promise<number> {
  const net = await import('net');
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as import('net').AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}
