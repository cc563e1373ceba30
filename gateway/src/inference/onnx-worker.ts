import * as ort from 'onnxruntime-node';
import { parentPort } from 'worker_threads';
import { CONTRACT_INPUTS, CONTRACT_OUTPUTS, FACE_SIZE, MEL_BANDS, MEL_WINDOW } from './model-contract';
import type { OrtValueMetadata } from './ort-signature';
import type { FromWorker, ToWorker } from './onnx-worker.protocol';

/**
 * Worker thread that owns one onnxruntime session. ORT's `session.run` is synchronous in native code
 * (the JS promise only defers it with setImmediate), so running it here keeps the gateway's event loop
 * free. Batches are run one at a time in arrival order; a `cancel` removes a batch that has not started.
 * Started by OnnxBackend through common/worker-loader.ts; this is the only `onnxruntime-node` import.
 */
type RunMsg = Extract<ToWorker, { type: 'run' }>;

const port = parentPort;
if (!port) throw new Error('onnx-worker must run inside a worker thread');

const [MEL_NAME, FACE_NAME] = CONTRACT_INPUTS.map((s) => s.name);
const MOUTH_NAME = CONTRACT_OUTPUTS[0].name;
const queue: RunMsg[] = [];
let session: ort.InferenceSession | undefined;
let draining = false;

const send = (msg: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);
const epochMs = () => performance.timeOrigin + performance.now();
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

function plainMetadata(m: ort.InferenceSession.ValueMetadata): OrtValueMetadata {
  return m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: [...m.shape] } : { name: m.name, isTensor: false };
}

async function load(modelPath: string, threads: number): Promise<void> {
  try {
    session = await ort.InferenceSession.create(modelPath, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
    });
    await warmUp(session);
    send({ type: 'loaded', inputs: session.inputMetadata.map(plainMetadata), outputs: session.outputMetadata.map(plainMetadata) });
  } catch (e) {
    send({ type: 'load-failed', message: errorText(e) });
  }
}

/**
 * One batch of one zero frame before the model is reported loaded: ORT allocates its arenas and
 * prepares its kernels on the first run (about twice a later run here), which would otherwise delay
 * the first job's first frame. A graph outside the contract fails here silently and is refused by
 * the parent's contract check.
 */
async function warmUp(s: ort.InferenceSession): Promise<void> {
  if (!s.inputNames.includes(MEL_NAME) || !s.inputNames.includes(FACE_NAME)) return;
  try {
    await s.run({
      [MEL_NAME]: new ort.Tensor('float32', new Float32Array(MEL_BANDS * MEL_WINDOW), [1, 1, MEL_BANDS, MEL_WINDOW]),
      [FACE_NAME]: new ort.Tensor('uint8', new Uint8Array(FACE_SIZE * FACE_SIZE * 3), [1, FACE_SIZE, FACE_SIZE, 3]),
    });
  } catch {
    // see above
  }
}

async function runOne(job: RunMsg, s: ort.InferenceSession): Promise<void> {
  const startedAt = epochMs();
  try {
    const feeds = {
      [MEL_NAME]: new ort.Tensor('float32', new Float32Array(job.mel), [job.n, 1, MEL_BANDS, MEL_WINDOW]),
      [FACE_NAME]: new ort.Tensor('uint8', new Uint8Array(job.face), [job.n, FACE_SIZE, FACE_SIZE, 3]),
    };
    const out = await s.run(feeds);
    const modelMs = epochMs() - startedAt;
    const mouth = out[MOUTH_NAME];
    if (!mouth || !(mouth.data instanceof Uint8Array)) throw new Error(`model output '${MOUTH_NAME}' is missing or not uint8`);
    // copy into a buffer we own: ORT's output may share a larger/external buffer that cannot be transferred
    const copy = new Uint8Array(mouth.data.length);
    copy.set(mouth.data);
    send({ type: 'done', id: job.id, mouth: copy.buffer, modelMs, startedAt }, [copy.buffer]);
  } catch (e) {
    send({ type: 'failed', id: job.id, message: errorText(e) });
  }
}

async function drain(): Promise<void> {
  if (draining) return;
  draining = true;
  try {
    for (;;) {
      // yield so that cancel messages posted during the last (blocking) run are handled before the next one starts
      await new Promise((r) => setImmediate(r));
      const job = queue.shift();
      if (!job) break;
      if (!session) send({ type: 'failed', id: job.id, message: 'no model loaded' });
      else await runOne(job, session);
    }
  } finally {
    draining = false;
  }
}

/**
 * Graceful exit. Terminating a worker while `session.run` is inside native code aborts the whole
 * process (`terminate called after throwing an instance of 'Napi::Error'`), so the parent asks
 * instead: the running batch completes, queued ones are dropped, the session is released.
 */
async function closeWorker(): Promise<void> {
  for (const job of queue.splice(0)) send({ type: 'dropped', id: job.id });
  while (draining) await new Promise((r) => setTimeout(r, 5));
  await session?.release().catch(() => undefined);
  session = undefined;
  process.exit(0);
}

port.on('message', (msg: ToWorker) => {
  switch (msg.type) {
    case 'load':
      void load(msg.modelPath, msg.threads);
      break;
    case 'run':
      queue.push(msg);
      void drain();
      break;
    case 'close':
      void closeWorker();
      break;
    case 'cancel': {
      const i = queue.findIndex((j) => j.id === msg.id);
      if (i >= 0) {
        queue.splice(i, 1);
        send({ type: 'dropped', id: msg.id });
      }
      break;
    }
  }
});
