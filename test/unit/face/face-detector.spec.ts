import { Worker } from 'worker_threads';
import { GatewayError } from '../../../gateway/src/common/errors';
import { FaceApiDetector, type FaceWorkerStarter } from '../../../gateway/src/face/face-detector';

/*
 * Scripted workers speak the face-worker protocol without tfjs, so the parent's queueing, crash and
 * close handling are tested in milliseconds. Each answers a detect with a box that encodes what it got:
 * x1 = arrival order in this worker, y1 = first byte of the frame, x2/y2 = width/height.
 */
const ECHO = `
const { parentPort } = require('worker_threads');
let seq = 0;
parentPort.postMessage({ type: 'ready', loadMs: 1 });
parentPort.on('message', (m) => {
  if (m.type === 'close') process.exit(0);
  const first = new Uint8Array(m.rgb)[0];
  const faces = [{ score: 0.9, box: { x1: seq++, y1: first, x2: m.width, y2: m.height } }];
  setTimeout(() => parentPort.postMessage({ type: 'done', id: m.id, faces, ms: 1 }), 5);
});`;
const CRASH_ON_DETECT = `
const { parentPort } = require('worker_threads');
parentPort.on('message', (m) => { if (m.type === 'detect') throw new Error('boom in worker'); });`;
const LOAD_FAILS = `
const { parentPort } = require('worker_threads');
parentPort.postMessage({ type: 'load-failed', message: 'weights missing' });
process.exit(1);`;
/** takes requests but never answers and ignores 'close': only terminate() ends it */
const DEAF = `
const { parentPort } = require('worker_threads');
parentPort.on('message', () => {});`;

/** Starts the scripts in order (the last one repeats) and records the workers it made. */
function scripted(...scripts: string[]): FaceWorkerStarter & { workers: Worker[] } {
  const workers: Worker[] = [];
  const start = () => {
    const w = new Worker(scripts[Math.min(workers.length, scripts.length - 1)], { eval: true });
    workers.push(w);
    return w;
  };
  return Object.assign(start, { workers });
}

const frame = (first: number, w = 4, h = 2) => new Uint8Array(w * h * 3).fill(first);
const exitCode = (w: Worker) => new Promise<number>((resolve) => w.once('exit', resolve));

describe(FaceApiDetector.name, () => {
  let sut: FaceApiDetector;
  afterEach(() => sut.close());

  it('should name the model and threshold in its id', () => {
    sut = new FaceApiDetector({ minConfidence: 0.7 }, scripted(ECHO));
    expect(sut.id).toBe('face-api-ssd-mobilenetv1@0.7');
  });

  it('should answer concurrent requests in FIFO order, each with its own result', async () => {
    const start = scripted(ECHO);
    sut = new FaceApiDetector({}, start);
    const results = await Promise.all([sut.detect(frame(10), 4, 2), sut.detect(frame(20, 2, 3), 2, 3), sut.detect(frame(30), 4, 2)]);
    expect(results.map((r) => r[0].box)).toEqual([
      { x1: 0, y1: 10, x2: 4, y2: 2 },
      { x1: 1, y1: 20, x2: 2, y2: 3 },
      { x1: 2, y1: 30, x2: 4, y2: 2 },
    ]);
    expect(start.workers).toHaveLength(1);
  });

  it('should send a copy of the frame and leave the caller its buffer', async () => {
    sut = new FaceApiDetector({}, scripted(ECHO));
    const rgb = frame(7);
    await sut.detect(rgb, 4, 2);
    expect(rgb.byteLength).toBe(24);
    expect(rgb[23]).toBe(7);
  });

  it('should reject a frame of the wrong size without starting a worker', async () => {
    const start = scripted(ECHO);
    sut = new FaceApiDetector({}, start);
    await expect(sut.detect(new Uint8Array(10), 4, 2)).rejects.toThrow(RangeError);
    expect(start.workers).toHaveLength(0);
  });

  it('should reject pending requests with INTERNAL when the worker crashes, and start a new worker next time', async () => {
    const start = scripted(CRASH_ON_DETECT, ECHO);
    sut = new FaceApiDetector({}, start);
    const both = [sut.detect(frame(1), 4, 2), sut.detect(frame(2), 4, 2)].map((p) => p.catch((e: unknown) => e));
    for (const err of await Promise.all(both)) {
      expect(err).toBeInstanceOf(GatewayError);
      expect(err).toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('boom in worker') });
    }
    const again = await sut.detect(frame(3), 4, 2);
    expect(again[0].box.y1).toBe(3);
    expect(start.workers).toHaveLength(2);
  });

  it('should report a worker that cannot load the model as INTERNAL with its reason', async () => {
    sut = new FaceApiDetector({}, scripted(LOAD_FAILS));
    await expect(sut.detect(frame(1), 4, 2)).rejects.toMatchObject({
      code: 'INTERNAL',
      message: 'face detector failed to start: weights missing',
    });
  });

  it('should fail pending requests on close and let the worker exit by itself', async () => {
    const start = scripted(ECHO);
    sut = new FaceApiDetector({}, start);
    const pending = sut.detect(frame(1), 4, 2).catch((e: unknown) => e);
    const w = start.workers[0];
    const terminate = jest.spyOn(w, 'terminate');
    const exited = exitCode(w);
    await sut.close();
    expect(await pending).toMatchObject({ name: 'GatewayError', code: 'BACKEND_UNAVAILABLE' });
    expect(await exited).toBe(0);
    expect(terminate).not.toHaveBeenCalled();
  });

  it('should terminate a worker that does not exit within the close timeout', async () => {
    const start = scripted(DEAF);
    sut = new FaceApiDetector({ closeTimeoutMs: 50 }, start);
    const pending = sut.detect(frame(1), 4, 2).catch((e: unknown) => e);
    const w = start.workers[0];
    const terminate = jest.spyOn(w, 'terminate');
    const exited = exitCode(w);
    // a worker terminated before it is online exits with 0, so wait for it (a loaded machine is slow to start one)
    await new Promise((resolve) => w.once('online', resolve));
    await sut.close();
    expect(terminate).toHaveBeenCalledTimes(1);
    expect(await exited).toBe(1); // terminated, not a clean exit
    expect(await pending).toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
  });

  it('should start a fresh worker when used again after close', async () => {
    const start = scripted(ECHO);
    sut = new FaceApiDetector({}, start);
    await sut.detect(frame(1), 4, 2);
    await sut.close();
    const faces = await sut.detect(frame(5), 4, 2);
    expect(faces[0].box).toEqual({ x1: 0, y1: 5, x2: 4, y2: 2 }); // seq restarted: a new worker
    expect(start.workers).toHaveLength(2);
  });

  it('should do nothing on close when no worker was started', async () => {
    const start = scripted(ECHO);
    sut = new FaceApiDetector({}, start);
    await sut.close();
    expect(start.workers).toHaveLength(0);
  });
});
