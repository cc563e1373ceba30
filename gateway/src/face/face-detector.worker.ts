import * as path from 'path';
import { parentPort, workerData } from 'worker_threads';
import type { FaceWorkerSettings, FromFaceWorker, ToFaceWorker } from './face-detector.protocol';
import type { DetectedFace } from './face.types';

/**
 * Worker thread that owns @vladmandic/face-api (SSD MobileNet v1 + the 68-point landmark net) on the tfjs WASM backend. One
 * detection blocks its thread for 0.3–1.5 s, so it runs here and not on the gateway's event loop
 * (architecture.md §3). Requests run one at a time in arrival order. Started by FaceApiDetector through
 * common/worker-loader.ts; this is the only tfjs / face-api import.
 */
type FaceApi = typeof import('@vladmandic/face-api');
type Tf = typeof import('@tensorflow/tfjs');
type DetectMsg = Extract<ToFaceWorker, { type: 'detect' | 'landmarks' }>;

const port = parentPort;
if (!port) throw new Error('face-detector.worker must run inside a worker thread');
const settings = workerData as FaceWorkerSettings;

const queue: DetectMsg[] = [];
let busy = false;
let closing = false;

const send = (msg: FromFaceWorker) => port.postMessage(msg);
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** tfjs on WASM + the weights that ship in the face-api package; nothing is downloaded. */
async function loadFaceApi(): Promise<{ faceapi: FaceApi; tf: Tf }> {
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
  await faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir);
  return { faceapi, tf };
}

const startedAt = performance.now();
const runtime = loadFaceApi();
runtime.then(
  () => send({ type: 'ready', loadMs: performance.now() - startedAt }),
  (e) => {
    send({ type: 'load-failed', message: errorText(e) });
    process.exit(1); // the parent fails pending requests on 'exit'; its next detect starts a fresh worker
  },
);

async function detectOne(job: DetectMsg): Promise<void> {
  const began = performance.now();
  const { faceapi, tf } = await runtime;
  const input = tf.tensor3d(new Uint8Array(job.rgb), [job.height, job.width, 3], 'int32');
  try {
    if (job.type === 'landmarks') {
      // the net pads the image to a square and resizes it to 112×112; positions come back in its pixels
      const lm = (await faceapi.nets.faceLandmark68Net.detectLandmarks(input as never)) as { positions: { x: number; y: number }[] };
      send({ type: 'landmarks-done', id: job.id, points: lm.positions.flatMap((p) => [p.x, p.y]), ms: performance.now() - began });
      return;
    }
    const options = new faceapi.SsdMobilenetv1Options({ minConfidence: settings.minConfidence, maxResults: settings.maxResults });
    const found = await faceapi.detectAllFaces(input as never, options);
    const faces: DetectedFace[] = found.map((d) => ({
      score: d.score,
      box: { x1: d.box.x, y1: d.box.y, x2: d.box.x + d.box.width, y2: d.box.y + d.box.height },
    }));
    send({ type: 'done', id: job.id, faces, ms: performance.now() - began });
  } catch (e) {
    send({ type: 'failed', id: job.id, message: errorText(e) });
  } finally {
    input.dispose();
  }
}

async function drain(): Promise<void> {
  if (busy) return;
  busy = true;
  try {
    for (let job = queue.shift(); job && !closing; job = queue.shift()) await detectOne(job);
  } finally {
    busy = false;
  }
  // exit from JS between requests, never in the middle of one: the parent terminates only as a last resort
  if (closing) process.exit(0);
}

port.on('message', (msg: ToFaceWorker) => {
  if (msg.type === 'detect' || msg.type === 'landmarks') {
    queue.push(msg);
    void drain();
  } else if (msg.type === 'close') {
    closing = true;
    queue.length = 0; // the parent has already rejected everything still pending
    if (!busy) process.exit(0);
  }
});
