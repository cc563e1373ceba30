import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { FfmpegRunner } from '../media/ffmpeg-runner';
import { AvatarService } from './avatar.service';
import { FaceApiDetector } from './face-detector';
import { refineFace } from './face-refine';
import { ImageAdapter } from './image.adapter';

export interface FaceBench {
  detectMs: number;
  landmarksMs: number;
  videoFrames: number;
  videoDetectMsPerFrame: number;
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** SSD detection and the landmark refinement (2 passes) on an image, medians of 3; then a video avatar's detection per detected frame. */
export async function benchFaces(image: string, video: string): Promise<FaceBench> {
  const detector = new FaceApiDetector();
  const cache = await fs.mkdtemp(path.join(os.tmpdir(), 'face-bench-'));
  try {
    await detector.warmUp();
    const images = new ImageAdapter();
    const img = await images.decode(await fs.readFile(image), 4096 * 4096);
    const det: number[] = [];
    const lm: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const faces = await detector.detect(img.data, img.width, img.height);
      const t1 = performance.now();
      await refineFace(detector, img.data, img.width, img.height, faces[0].box);
      lm.push(performance.now() - t1);
      det.push(t1 - t0);
    }
    const avatars = new AvatarService(new FfmpegRunner(), images, detector, {
      cacheDir: cache,
      maxImagePixels: 4096 * 4096,
      maxVideoSeconds: 60,
    });
    const v = await avatars.prepare(video);
    const detected = Math.min(v.frameCount, 50);
    return { detectMs: median(det), landmarksMs: median(lm), videoFrames: detected, videoDetectMsPerFrame: v.timings.detect / detected };
  } finally {
    await detector.close();
    await fs.rm(cache, { recursive: true, force: true });
  }
}

export function formatFaceBench(b: FaceBench): string {
  return [
    `face, per image (median of 3): SSD ${b.detectMs.toFixed(0)} ms + landmarks (2 passes) ${b.landmarksMs.toFixed(0)} ms`,
    `face, video avatar: ${b.videoDetectMsPerFrame.toFixed(0)} ms per detected frame (SSD + landmarks, ${b.videoFrames} frames)`,
  ].join('\n');
}
