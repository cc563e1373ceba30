import * as path from 'path';
import type { DetectedFace } from './face.types';

/**
 * Face detection behind a small injectable class, so services take "a detector" and tests pass a
 * strict fake. `detect` gets packed RGB24 and returns every face found (unpadded, in pixels).
 */
export abstract class FaceDetector {
  /** names the model + settings; part of the avatar cache key */
  abstract readonly id: string;
  abstract detect(rgb: Uint8Array, width: number, height: number): Promise<DetectedFace[]>;
}

export interface FaceApiDetectorOptions {
  /** SSD MobileNet v1 score threshold (Wav2Lip's S3FD keeps scores > 0.5) */
  minConfidence?: number;
  maxResults?: number;
}

type FaceApi = typeof import('@vladmandic/face-api');
type Tf = typeof import('@tensorflow/tfjs');

let runtime: Promise<{ faceapi: FaceApi; tf: Tf }> | undefined;

/**
 * Loads tfjs on the WASM backend and the SSD MobileNet v1 weights that ship inside the face-api
 * package, once per process (tfjs keeps its backend in global state). Nothing is downloaded: the
 * .wasm binaries and the weights are read from node_modules.
 */
export function loadFaceApi(): Promise<{ faceapi: FaceApi; tf: Tf }> {
  runtime ??= (async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const tf = require('@tensorflow/tfjs') as Tf;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
    // the node-wasm build binds face-api to the tfjs packages above instead of tfjs-node
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
    const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    wasm.setWasmPaths(wasmDir + path.sep);
    if (!(await tf.setBackend('wasm'))) throw new Error('the tfjs wasm backend failed to start');
    await tf.ready();
    const modelDir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
    await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
    return { faceapi, tf };
  })();
  runtime.catch(() => (runtime = undefined)); // a failed start may be retried
  return runtime;
}

/** @vladmandic/face-api SSD MobileNet v1 on tfjs-wasm. The model is loaded on the first detect (or warmUp). */
export class FaceApiDetector extends FaceDetector {
  readonly id: string;
  private readonly minConfidence: number;
  private readonly maxResults: number;

  constructor(opts: FaceApiDetectorOptions = {}) {
    super();
    this.minConfidence = opts.minConfidence ?? 0.5;
    this.maxResults = opts.maxResults ?? 10;
    this.id = `face-api-ssd-mobilenetv1@${this.minConfidence}`;
  }

  /** Loads the backend and weights now and runs one tiny detection, so the first request is not slow. */
  async warmUp(): Promise<void> {
    await this.detect(new Uint8Array(64 * 64 * 3), 64, 64);
  }

  async detect(rgb: Uint8Array, width: number, height: number): Promise<DetectedFace[]> {
    const { faceapi, tf } = await loadFaceApi();
    if (rgb.length !== width * height * 3) throw new RangeError(`expected ${width}x${height}x3 bytes, got ${rgb.length}`);
    const input = tf.tensor3d(rgb, [height, width, 3], 'int32');
    try {
      const options = new faceapi.SsdMobilenetv1Options({ minConfidence: this.minConfidence, maxResults: this.maxResults });
      const found = await faceapi.detectAllFaces(input as never, options);
      return found.map((d) => ({
        score: d.score,
        box: { x1: d.box.x, y1: d.box.y, x2: d.box.x + d.box.width, y2: d.box.y + d.box.height },
      }));
    } finally {
      input.dispose();
    }
  }
}
