import { spawn } from 'child_process';
import { Command } from 'commander';
import { existsSync, promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { benchMel } from '../audio/mel.bench';
import { type AppConfig, defaultModelPath, envWith, loadConfig, type ModelPrecision, REPO_ROOT } from '../config/config';
import { createBackend } from '../inference/backend-factory';
import { benchOnnx, formatOnnxBench } from '../inference/onnx.bench';
import { benchPrecisions, cpuHeader, formatPrecisionBench } from '../inference/precision.bench';
import { FACE_ELEMENTS, MEL_WINDOW_ELEMENTS } from '../inference/model-contract';
import { benchFaces, formatFaceBench } from '../face/face.bench';
import type { RenderResult, StageName } from '../render/render.types';
import { FfmpegRunner } from '../media/ffmpeg-runner';
import { EXIT_OK, parseIntOption, reportError } from './cli-util';
import { benchJobStream, benchSessions, formatJobStream } from './realtime.bench';

/**
 * `lipsync bench` (npm run bench): the speed figures live here, never in tests.
 * 1. mel front end: 60 s of audio, ms and × real time.
 * 2. render 10 s and 60 s of speech on the fixture, each in its own process (so peak RSS is its own),
 *    then push the same batch sizes through a fresh backend with no other work: total / model-only.
 *    With the int8 model built: FP32 vs int8 model-only ratios in one interleaved run, and the renders
 *    in each precision (--precisions). The header names the CPU and its int8 features (VNNI, AMX).
 * `--mode realtime`: a streamed job's time to first byte / first decodable frame, and live sessions'
 * latency and sustained frames/s per batch size (realtime.bench.ts); `--mode all` runs both.
 */
interface BenchOpts {
  seconds: string;
  face: string;
  batch?: number;
  skipRender?: boolean;
  skipModel?: boolean;
  mode: string;
  sessionSeconds: number;
  sessionFps: number;
  sessionBatches: string;
  precisions?: string;
  jobStreams: number;
  skipSessions?: boolean;
}

function parseFpsOption(v: string): number {
  const fps = Number(v);
  if (![10, 16, 20, 25, 32, 40, 50].includes(fps)) throw new Error(`--session-fps must be 10, 16, 20, 25, 32, 40 or 50, got ${v}`);
  return fps;
}

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('benchmarks: mel front end, and full renders vs model-only time (prints ratios and per-stage figures)')
    .option('--seconds <list>', 'audio lengths to render, comma separated', '10,60')
    .option('--face <file>', 'avatar image', path.join(REPO_ROOT, 'test', 'fixtures', 'faces', 'astronaut.png'))
    .option('--batch <n>', 'batch size', parseIntOption('--batch', 1, 128))
    .option('--skip-model', 'skip the model-only batch-size sweep')
    .option('--skip-render', 'skip the full renders')
    .option('--precisions <list>', 'onnx: precisions to render in, comma separated (default: fp32, and int8 when it is built)')
    .option('--mode <mode>', 'standard (mel, model, renders), realtime (job stream first bytes, live session latency), or all', 'standard')
    .option('--session-seconds <n>', 'seconds of speech per live session (realtime mode)', parseIntOption('--session-seconds', 1, 600), 8)
    .option('--session-batches <list>', 'live session batch sizes (realtime mode)', '1,2,3,4,5,6,7,8')
    .option(
      '--job-streams <n>',
      'streamed jobs in a row (realtime mode; the first also pays the first inference)',
      parseIntOption('--job-streams', 1, 20),
      3,
    )
    .option('--skip-sessions', 'realtime mode: job streams only')
    .option('--session-fps <n>', 'live sessions: fps (10, 16, 20, 25, 32, 40 or 50: whole samples per frame)', parseFpsOption, 25)
    .action(async (opts: BenchOpts) => {
      try {
        process.exitCode = await runBench(opts);
      } catch (err) {
        process.exitCode = reportError(err);
      }
    });
}

async function runBench(opts: BenchOpts): Promise<number> {
  if (!['standard', 'realtime', 'all'].includes(opts.mode)) throw new Error(`--mode must be standard, realtime or all, got ${opts.mode}`);
  if (opts.mode !== 'realtime') await runStandard(opts);
  if (opts.mode !== 'standard') await runRealtime(opts);
  return EXIT_OK;
}

async function runRealtime(opts: BenchOpts): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'lipsync-bench-rt-'));
  try {
    const wav = path.join(work, 'speech-3s.wav');
    await makeSpeech(wav, 3);
    const config = loadConfig();
    const o = {
      face: opts.face,
      speechWav: wav,
      // text jobs speak in the job (espeak-ng, 22.05 kHz, resampled in-process: plain-wav.ts)
      speechText: 'The quick brown fox jumps over the lazy dog.',
      work,
      batchSizes: opts.sessionBatches.split(',').map(Number),
      sessionSeconds: opts.sessionSeconds,
      sessionFps: opts.sessionFps,
      // 24 frames in batches of b through a fresh backend: the ceiling a session at batch b can reach
      modelOnlyFps:
        config.backend === 'fake'
          ? undefined
          : async (b: number) => {
              const sizes = Array.from({ length: Math.max(1, Math.round(24 / b)) }, () => b);
              return (sizes.length * b) / ((await modelOnlyMs(config, sizes)) / 1000);
            },
    };
    print(`realtime (${config.backend} backend; the first job also pays the avatar's face detection in its upload, not in the figures):`);
    const streams = await benchJobStream(o, opts.jobStreams);
    streams.forEach((f, k) => print(formatJobStream(f, ` ${(k % opts.jobStreams) + 1}/${opts.jobStreams}`)));
    if (opts.skipSessions) return;
    const long = path.join(work, 'speech-session.wav');
    await makeSpeech(long, opts.sessionSeconds);
    const { stdout: pcm } = await new FfmpegRunner().run([
      '-hide_banner',
      '-loglevel',
      'error',
      '-i',
      long,
      '-f',
      's16le',
      '-ar',
      '16000',
      '-ac',
      '1',
      'pipe:1',
    ]);
    await benchSessions(o, pcm, print);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/** The model file of each precision: MODEL_PATH for the configured precision, setup-model's default for the other. */
function modelPathOf(config: AppConfig, p: ModelPrecision): string {
  return (config.modelPrecision ?? 'fp32') === p ? config.modelPath : defaultModelPath(p);
}

async function runStandard(opts: BenchOpts): Promise<number> {
  print(await cpuHeader());
  const mel = await benchMel();
  print(`mel: ${mel.audioSeconds} s of audio in ${mel.ms.toFixed(1)} ms = ${mel.realTimeFactor.toFixed(0)}× real time (target ≥ 500×)`);
  print(formatFaceBench(await benchFaces(opts.face, path.join(REPO_ROOT, 'test', 'fixtures', 'faces', 'astronaut-sway.mp4'))));
  const config = loadConfig();
  if (config.backend === 'onnx' && !opts.skipModel) {
    print(`onnx model alone (${config.onnxThreads} threads), per batch size:`);
    print(formatOnnxBench(await benchOnnx(config.modelPath, [1, 8, 32], { threads: config.onnxThreads })));
    const int8 = modelPathOf(config, 'int8');
    if (existsSync(int8)) {
      print(`fp32 vs int8, model alone, in one run (runs alternate, medians of 3; goal: int8 ≥ 2.5× at batch 32):`);
      const models = { fp32: modelPathOf(config, 'fp32'), int8 };
      print(formatPrecisionBench(await benchPrecisions(models, [1, 8, 32], { threads: config.onnxThreads })));
    } else {
      print(`int8: ${int8} not built (bash scripts/setup-model.sh --int8): no fp32/int8 comparison`);
    }
  }
  if (opts.skipRender) return EXIT_OK;

  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'lipsync-bench-'));
  try {
    const defaultPrecisions =
      config.backend === 'onnx' && existsSync(modelPathOf(config, 'int8')) ? 'fp32,int8' : (config.modelPrecision ?? 'fp32');
    const precisions = (opts.precisions ?? defaultPrecisions).split(',').map((p) => p.trim()) as ModelPrecision[];
    if (precisions.some((p) => p !== 'fp32' && p !== 'int8'))
      throw new Error(`--precisions takes fp32 and/or int8, got ${opts.precisions}`);
    for (const precision of precisions) {
      const modelEnv = config.backend === 'onnx' ? { MODEL_PRECISION: precision, MODEL_PATH: modelPathOf(config, precision) } : {};
      const pconfig = loadConfig(envWith(modelEnv));
      const rows: { seconds: number; r: RenderResult & { peakRssMb: number }; modelMs: number }[] = [];
      for (const seconds of opts.seconds.split(',').map(Number)) {
        const audio = path.join(work, `speech-${seconds}s.wav`);
        if (!existsSync(audio)) await makeSpeech(audio, seconds);
        const out = path.join(work, `out-${seconds}s-${precision}.mp4`);
        const args = ['render', '--face', opts.face, '--audio', audio, '--out', out, '--json'];
        if (opts.batch) args.push('--batch', String(opts.batch));
        // a fresh DATA_DIR per run: each render pays its own face detection, as a first render would
        const env = envWith({ ...modelEnv, DATA_DIR: path.join(work, `data-${seconds}s-${precision}`) });
        const r = JSON.parse(await runSelf(args, env)) as RenderResult & { peakRssMb: number };
        const modelMs = await modelOnlyMs(pconfig, r.batchSizes);
        rows.push({ seconds, r, modelMs });
        printRender(seconds, r, modelMs, config.backend === 'onnx' ? precision : undefined);
      }
      if (rows.length >= 2) {
        const a = rows[0];
        const b = rows[rows.length - 1];
        print(`peak RSS ${b.seconds} s / ${a.seconds} s = ${(b.r.peakRssMb / a.r.peakRssMb).toFixed(2)} (goal ≤ 1.2)`);
      }
    }
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
  return EXIT_OK;
}

function printRender(seconds: number, r: RenderResult & { peakRssMb: number }, modelMs: number, precision?: ModelPrecision): void {
  const total = r.timings.total ?? NaN;
  const stages = (['decode', 'mel', 'detect', 'prepare', 'infer', 'composite', 'encode'] as StageName[])
    .map((s) => `${s} ${(r.timings[s] ?? 0).toFixed(0)}`)
    .join(', ');
  print(
    `render ${seconds} s (${r.frames} frames, batch ${Math.max(...r.batchSizes)}, ${r.backend}${precision ? ` ${precision}` : ''}, ${r.encoder}): ` +
      `total ${total.toFixed(0)} ms, ${(r.frames / (total / 1000)).toFixed(2)} frames/s${precision === 'int8' ? ' (goal ≥ 25)' : ''}, peak RSS ${r.peakRssMb.toFixed(0)} MB`,
  );
  print(`  stages (ms, overlapping): ${stages}`);
  print(`  model-only ${modelMs.toFixed(0)} ms → total / model-only = ${(total / modelMs).toFixed(3)} (goal ≤ 1.25)`);
}

/** The same batch sizes through a fresh backend, inputs of the right shape, nothing else running. */
async function modelOnlyMs(config: AppConfig, sizes: number[]): Promise<number> {
  const backend = createBackend(config);
  await backend.start();
  try {
    const max = Math.max(...sizes);
    const mel = new Float32Array(max * MEL_WINDOW_ELEMENTS).map((_, i) => Math.sin(i) * 2);
    const face = new Uint8Array(max * FACE_ELEMENTS).map((_, i) => (i * 31) & 255);
    const t0 = performance.now();
    for (const n of sizes) {
      await backend.infer({ n, mel: mel.slice(0, n * MEL_WINDOW_ELEMENTS), face: face.slice(0, n * FACE_ELEMENTS) });
    }
    return performance.now() - t0;
  } finally {
    await backend.close();
  }
}

/** espeak-ng speech, looped by ffmpeg to exactly `seconds`. */
async function makeSpeech(out: string, seconds: number): Promise<void> {
  const base = `${out}.base.wav`;
  await runCmd('espeak-ng', [
    '-v',
    'en-us',
    '-s',
    '160',
    '-w',
    base,
    'The quick brown fox jumps over the lazy dog. Lip sync needs speech with many different mouth shapes, like this one.',
  ]);
  await new FfmpegRunner().run([
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-stream_loop',
    '-1',
    '-i',
    base,
    '-t',
    String(seconds),
    '-ar',
    '16000',
    '-ac',
    '1',
    out,
  ]);
}

function runSelf(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return runCmd(process.execPath, [path.join(REPO_ROOT, 'bin', 'lipsync.js'), ...args], env);
}

function runCmd(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args[0]} exited ${code}: ${err.trim().split('\n').pop()}`)),
    );
  });
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}
