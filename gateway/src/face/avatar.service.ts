import { randomBytes } from 'crypto';
import { promises as fs } from 'fs';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { LRUCache } from 'lru-cache';
import { GatewayError, throwIfAborted } from '../common/errors';
import type { AppConfig } from '../config/config';
import { FfmpegRunner } from '../media/ffmpeg-runner';
import type { SniffResult } from '../media/media-sniff';
import { sniffBuffer } from '../media/sniff-file';
import { AvatarSource, avatarFileSource, classifyAvatar, decodeAvatar, DecodedAvatar, sha256 } from './avatar-source';
import { AVATAR_RECORD_VERSION, AvatarRecord, AvatarStore, boxToTuple, tupleToBox } from './avatar-store';
import { AvatarEntry, nearestBoxes, viewAvatar } from './avatar-view';
import { manualBox, validatePads } from './face-box';
import { FaceApiDetector, FaceDetector } from './face-detector';
import { trackFaces } from './face-track';
import type { FaceBox, FaceReport, PreparedAvatar, PrepareOptions } from './face.types';
import { ImageAdapter } from './image.adapter';
import { probeVideo } from './video-frames';

export interface AvatarServiceOptions {
  /** where the box records (JSON) live */
  cacheDir: string;
  /** prepared avatars kept in memory (LRU); default 8 */
  memoryEntries?: number;
  /** bound on the decoded frame bytes kept in memory; default 1 GiB */
  memoryBytes?: number;
  maxImagePixels: number;
  maxVideoSeconds: number;
  /** decoded frames one video avatar may hold; default 1500 (60 s at 25 fps) */
  maxVideoFrames?: number;
  /** decoded RGB bytes one video avatar may hold; default 1 GiB (≈ 360 frames at 720p) */
  maxVideoBytes?: number;
  /** detections per video (others interpolated); default 50 */
  maxDetections?: number;
}

/**
 * Avatar preparation: decode once, detect once, keep the boxes (memory LRU + JSON on disk), hand
 * out frames, boxes, 96×96 crops and blend masks. Memory: an image holds one frame; a video holds
 * all its decoded frames, bounded by maxVideoFrames/maxVideoBytes (VIDEO_TOO_LONG beyond).
 */
export class AvatarService {
  private readonly memory: LRUCache<string, AvatarEntry>;
  private readonly inFlight = new Map<
    string,
    Promise<{ entry: AvatarEntry; source: PreparedAvatar['source']; decode: number; detect: number }>
  >();
  private readonly store: AvatarStore;

  constructor(
    private readonly runner: FfmpegRunner,
    private readonly images: ImageAdapter,
    private readonly detector: FaceDetector,
    private readonly opts: AvatarServiceOptions,
  ) {
    // bounded by count and by decoded frame bytes; an avatar bigger than the whole budget is not kept
    this.memory = new LRUCache({ max: opts.memoryEntries ?? 8, maxSize: opts.memoryBytes ?? 1 << 30 });
    this.store = new AvatarStore(opts.cacheDir);
  }

  /** Prepares the avatar in a file (image or short video, recognised by content). */
  async prepare(file: string, o: PrepareOptions = {}): Promise<PreparedAvatar> {
    const t0 = performance.now();
    return this.prepareSource(await avatarFileSource(file), o, t0);
  }

  /** Same as prepare() for bytes in memory (a video is written to a temp file for ffmpeg, then removed). */
  async prepareBuffer(bytes: Buffer, o: PrepareOptions = {}): Promise<PreparedAvatar> {
    const t0 = performance.now();
    const { kind, pinned } = classifyAvatar(sniffBuffer(bytes));
    if (kind !== 'video') return this.prepareSource({ kind, bytes, hash: sha256(bytes) }, o, t0);
    await fs.mkdir(this.opts.cacheDir, { recursive: true });
    const tmp = path.join(this.opts.cacheDir, `upload-${randomBytes(8).toString('hex')}.tmp`);
    try {
      await fs.writeFile(tmp, bytes);
      return await this.prepareSource({ kind, pinned, path: tmp, hash: sha256(bytes) }, o, t0);
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }

  /** Drops an avatar from memory and disk (e.g. DELETE /v1/avatars/:id). */
  async forget(key: string): Promise<void> {
    this.memory.delete(key);
    await this.store.remove(key);
  }

  /**
   * Purges every trace of a face (issue 10, item 5): decoded frames, crops and boxes in memory
   * under any options, and every box record on disk made from these bytes (sha256 = avatarId).
   */
  async forgetContent(sourceHash: string): Promise<void> {
    for (const [key, entry] of [...this.memory.entries()]) if (entry.hash === sourceHash) this.memory.delete(key);
    await this.store.removeWhere((rec) => rec.sourceHash === sourceHash);
  }

  /** Removes box records older than maxAgeMs (AVATAR_TTL_SECONDS); memory entries go with them. */
  async sweepRecords(maxAgeMs: number, now = Date.now()): Promise<number> {
    const removed = await this.store.removeWhere((rec) => !(Date.parse(rec.createdAt) + maxAgeMs > now));
    for (const key of removed) this.memory.delete(key);
    return removed.length;
  }

  private async prepareSource(src: AvatarSource, o: PrepareOptions, t0: number): Promise<PreparedAvatar> {
    throwIfAborted(o.signal);
    const pads = o.pads === undefined ? undefined : validatePads(o.pads);
    const smooth = src.kind === 'video' && o.smooth !== false;
    const selection = o.box ? null : [o.faceIndex ?? null, o.facePoint ?? null];
    const key = sha256(
      JSON.stringify([
        AVATAR_RECORD_VERSION,
        src.hash,
        src.kind === 'video',
        this.detector.id,
        !!this.detector.landmarks,
        o.box ?? null,
        o.box ? null : (pads ?? 'relative'),
        smooth,
        selection,
        this.opts.maxDetections ?? 50,
        this.opts.maxVideoFrames ?? 1500,
        this.opts.maxVideoBytes ?? 1 << 30,
      ]),
    );
    const hit = this.memory.get(key);
    if (hit) return viewAvatar(hit, 'memory', { decode: 0, detect: 0, prepare: performance.now() - t0 });
    let job = this.inFlight.get(key);
    if (!job) {
      job = this.build(key, src, { ...o, pads, smooth }).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, job);
    }
    let built;
    try {
      built = await job;
    } catch (err) {
      // a shared build cancelled by another caller's signal: build again under our own
      if (err instanceof GatewayError && err.code === 'CANCELLED' && !o.signal?.aborted) return this.prepareSource(src, o, t0);
      throw err;
    }
    throwIfAborted(o.signal);
    const { entry, source, decode, detect } = built;
    return viewAvatar(entry, source, { decode, detect, prepare: performance.now() - t0 });
  }

  private async build(key: string, src: AvatarSource, o: PrepareOptions & { smooth: boolean }) {
    const tDecode = performance.now();
    const decoded = await this.decode(src, o.signal);
    const decode = performance.now() - tDecode;
    const { width, height, frames } = decoded;
    let boxes: (FaceBox | undefined)[];
    let face: FaceReport;
    let source: PreparedAvatar['source'];
    let detect = 0;
    const rec = o.box ? undefined : await this.store.read(key);
    if (o.box) {
      const b = manualBox(o.box, width, height);
      boxes = frames.map(() => b);
      face = { faces: [], selected: -1, box: b, method: 'manual' };
      source = 'manual';
    } else if (rec && rec.width === width && rec.height === height && rec.boxes.length === frames.length) {
      boxes = rec.boxes.map((t) => (t ? tupleToBox(t) : undefined));
      face = rec.face;
      source = 'disk';
    } else {
      const tDetect = performance.now();
      const track = await trackFaces(frames, width, height, this.detector, {
        pads: o.pads,
        smooth: o.smooth,
        faceIndex: o.faceIndex,
        facePoint: o.facePoint,
        maxDetections: this.opts.maxDetections ?? 50,
        signal: o.signal,
      });
      detect = performance.now() - tDetect;
      boxes = track.boxes;
      face = track.face;
      source = 'detected';
      const record: AvatarRecord = {
        version: AVATAR_RECORD_VERSION,
        key,
        width,
        height,
        frameCount: frames.length,
        isVideo: src.kind === 'video',
        fps: decoded.fps,
        detector: this.detector.id,
        detections: track.detections,
        boxes: boxes.map((b) => (b ? boxToTuple(b) : null)),
        face,
        createdAt: new Date().toISOString(),
        sourceHash: src.hash,
      };
      await this.store.write(record).catch(() => undefined); // a read-only cache dir only costs a re-detection later
    }
    const entry: AvatarEntry = {
      key,
      hash: src.hash,
      width,
      height,
      isVideo: src.kind === 'video',
      fps: decoded.fps,
      frames,
      boxes,
      nearest: nearestBoxes(boxes),
      face,
      crops: new Array<Uint8Array | undefined>(frames.length),
    };
    this.memory.set(key, entry, { size: Math.max(1, frames.length * width * height * 3) });
    return { entry, source, decode, detect };
  }

  /** Refuses a face video a job would fail on (pinned demuxer, size, duration), without decoding it. */
  async checkFaceFile(file: string, found: SniffResult): Promise<void> {
    const { kind, pinned } = classifyAvatar(found);
    if (kind !== 'video') return;
    await probeVideo(this.runner, file, { maxVideoSeconds: this.opts.maxVideoSeconds, maxPixels: this.opts.maxImagePixels }, pinned!);
  }

  private decode(src: AvatarSource, signal?: AbortSignal): Promise<DecodedAvatar> {
    const limits = {
      maxImagePixels: this.opts.maxImagePixels,
      maxVideoSeconds: this.opts.maxVideoSeconds,
      maxVideoFrames: this.opts.maxVideoFrames ?? 1500,
      maxVideoBytes: this.opts.maxVideoBytes ?? 1 << 30,
    };
    return decodeAvatar(src, this.runner, this.images, limits, signal);
  }
}

/** The service wired from the app config: face-api detector, sharp, boxes cached under DATA_DIR/avatars. */
export function createAvatarService(
  config: AppConfig,
  runner: FfmpegRunner,
  detector: FaceDetector = new FaceApiDetector(),
): AvatarService {
  return new AvatarService(runner, new ImageAdapter(), detector, {
    cacheDir: path.join(config.dataDir, 'avatars'),
    maxImagePixels: config.limits.maxImagePixels,
    maxVideoSeconds: config.limits.maxVideoSeconds,
  });
}
