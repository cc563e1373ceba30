import { Command } from 'commander';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AudioService } from '../audio/audio.service';
import { allWindows } from '../audio/mel-windows';
import { encodeNpy, encodeNpyU8 } from '../audio/npy';
import { loadConfig, REPO_ROOT } from '../config/config';
import { cropFace, cropToEven, type RgbImage } from '../face/face-crop';
import { FaceApiDetector } from '../face/face-detector';
import { trackFaces } from '../face/face-track';
import { ImageAdapter } from '../face/image.adapter';
import { decodeVideo } from '../face/video-frames';
import { requirePinnedFormat } from '../media/demuxer-allowlist';
import { SNIFF_BYTES, sniffMedia } from '../media/media-sniff';
import {
  CALIBRATION_PLAN,
  type CalibrationPlan,
  type FaceVariant,
  flipRgb,
  HOLDOUT_PLAN,
  pairInputs,
  scaleRgb,
} from '../inference/calibration-data';
import { FACE_SIZE, MEL_BANDS, MEL_WINDOW } from '../inference/model-contract';
import { FfmpegRunner } from '../media/ffmpeg-runner';
import { EspeakSynthesizer } from '../speech/espeak-synthesizer';
import { EXIT_OK, parseIntOption, reportError } from './cli-util';

interface CalibOpts {
  out: string;
  frames: number;
  holdoutFrames: number;
}

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'faces');

/** `lipsync calib-data --out DIR`: INT8 calibration and held-out inputs (layout: inference/calibration-data.ts). */
export function registerCalibDataCommand(program: Command): Command {
  return program
    .command('calib-data')
    .description('write INT8 calibration inputs: mel windows of espeak-ng speech and detected face crops of the fixtures (.npy)')
    .requiredOption('--out <dir>', 'output folder (calibration/, holdout/, manifest.json)')
    .option('--frames <n>', 'calibration frames', parseIntOption('--frames', 1, 4096), 64)
    .option('--holdout-frames <n>', 'held-out frames for the export check', parseIntOption('--holdout-frames', 1, 4096), 16)
    .action(async (opts: CalibOpts) => {
      try {
        process.exitCode = await writeCalibrationData(opts);
      } catch (err) {
        process.exitCode = reportError(err);
      }
    });
}

async function writeCalibrationData(opts: CalibOpts): Promise<number> {
  const config = loadConfig();
  const runner = new FfmpegRunner({ ffmpegPath: config.ffmpegPath, ffprobePath: config.ffprobePath });
  const detector = new FaceApiDetector();
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'lipsync-calib-'));
  try {
    const ctx = { runner, detector, work, speech: new EspeakSynthesizer({ binary: config.speech?.espeakPath }) };
    const sets = [
      { name: 'calibration', plan: CALIBRATION_PLAN, n: opts.frames },
      { name: 'holdout', plan: HOLDOUT_PLAN, n: opts.holdoutFrames },
    ];
    const manifest: Record<string, unknown> = { version: 1, layout: 'mel.npy float32 [N,1,80,16], face.npy uint8 [N,96,96,3] RGB' };
    for (const set of sets) {
      const { mel, face, crops, windows } = await buildSet(ctx, set.plan, set.n);
      const dir = path.join(opts.out, set.name);
      await fs.mkdir(dir, { recursive: true });
      await writeAtomic(path.join(dir, 'mel.npy'), encodeNpy(mel, [set.n, 1, MEL_BANDS, MEL_WINDOW]));
      await writeAtomic(path.join(dir, 'face.npy'), encodeNpyU8(face, [set.n, FACE_SIZE, FACE_SIZE, 3]));
      manifest[set.name] = { frames: set.n, fromWindows: windows, fromCrops: crops, ...set.plan };
      process.stdout.write(`${set.name}: ${set.n} frames from ${windows} mel windows and ${crops} face crops → ${dir}\n`);
    }
    await writeAtomic(path.join(opts.out, 'manifest.json'), Buffer.from(JSON.stringify(manifest, null, 2)));
    return EXIT_OK;
  } finally {
    await Promise.all([detector.close(), fs.rm(work, { recursive: true, force: true })]);
  }
}

interface Ctx {
  runner: FfmpegRunner;
  detector: FaceApiDetector;
  speech: EspeakSynthesizer;
  work: string;
}

async function buildSet(ctx: Ctx, plan: CalibrationPlan, n: number) {
  const audio = new AudioService(ctx.runner);
  const parts: Float32Array[] = [];
  for (const [i, s] of plan.sentences.entries()) {
    const wav = path.join(ctx.work, `s${i}-${Math.random().toString(36).slice(2)}.wav`);
    await ctx.speech.synthesize({ text: s.text, voice: s.voice, rate: s.rate }, wav);
    parts.push(allWindows((await audio.loadMel(wav)).mel, 25));
  }
  const windows = concat(parts);
  const crops: Uint8Array[] = [];
  for (const v of plan.faces) crops.push(...(await faceCrops(ctx, v)));
  return { ...pairInputs(windows, crops, n), crops: crops.length, windows: windows.length / (MEL_BANDS * MEL_WINDOW) };
}

/** The variant's frames → the project's detector and box tracking → 96×96 crops, as a render makes them. */
async function faceCrops(ctx: Ctx, v: FaceVariant): Promise<Uint8Array[]> {
  const file = path.join(FIXTURES, v.file);
  let frames: RgbImage[];
  if (v.file.endsWith('.mp4')) {
    const pinned = requirePinnedFormat(sniffMedia((await fs.readFile(file)).subarray(0, SNIFF_BYTES)), 'the fixture video');
    const limits = { maxVideoSeconds: 10, maxVideoFrames: 250, maxVideoBytes: 1 << 30, maxPixels: 4096 * 4096 };
    const video = await decodeVideo(ctx.runner, file, limits, pinned);
    frames = video.frames
      .map((data) => ({ data, width: video.width, height: video.height }))
      .filter((_, i) => (v.frames === 'odd' ? i % 2 === 1 : v.frames === 'even' ? i % 2 === 0 : true));
  } else {
    frames = [await new ImageAdapter().decode(await fs.readFile(file), 4096 * 4096)];
  }
  frames = frames.map((f) => cropToEven(scaleRgb(v.flip ? flipRgb(f) : f, v.scale)));
  const { width, height } = frames[0];
  // the product's own boxes (landmark geometry, default pads); frames without the face are left out
  const { boxes } = await trackFaces(
    frames.map((f) => f.data),
    width,
    height,
    ctx.detector,
    {
      smooth: frames.length > 1,
      maxDetections: 50,
    },
  );
  return frames.flatMap((f, i) => (boxes[i] ? [cropFace(f.data, width, boxes[i])] : []));
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function writeAtomic(target: string, bytes: Buffer): Promise<void> {
  const tmp = `${target}.${process.pid}.tmp`;
  try {
    await fs.writeFile(tmp, bytes);
    await fs.rename(tmp, target);
  } finally {
    await fs.rm(tmp, { force: true });
  }
}
