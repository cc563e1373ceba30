import { Command, Option } from 'commander';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { envWith, loadConfig } from '../config/config';
import { createCoreServices } from '../core-services';
import type { RenderResult, StageName } from '../render/render.types';
import { badInput, EXIT_OK, parseIntOption, parseNumberOption, parsePoint, parseTblr, reportError } from './cli-util';
import { ProgressBar } from './progress-bar';

interface RenderOpts {
  face: string;
  audio?: string;
  text?: string;
  voice?: string;
  out: string;
  /** unset: a video avatar keeps its own rate, an image renders at 25 */
  fps?: number;
  batch?: number;
  box?: [number, number, number, number];
  pads?: [number, number, number, number];
  faceIndex?: number;
  facePoint?: [number, number];
  smooth: boolean;
  encoder: 'auto' | 'libx264' | 'h264_nvenc';
  backend?: 'onnx' | 'triton' | 'fake';
  precision?: 'fp32' | 'int8';
  outputHeight?: number;
  quality?: number;
  loop: 'loop' | 'pingpong';
  silence: 'keep' | 'model';
  json?: boolean;
}

const STAGES: StageName[] = ['decode', 'mel', 'detect', 'prepare', 'infer', 'composite', 'encode', 'total'];

export function registerRenderCommand(program: Command): void {
  program
    .command('render')
    .description('render a lip-synced MP4 from a face (image or short video) and speech (audio file or --text)')
    .requiredOption('--face <file>', 'avatar: PNG, JPEG or WebP image, or a short video')
    .option('--audio <file>', 'speech: any audio ffmpeg reads (wav, mp3, ogg, m4a, flac, or a video with audio)')
    .option('--text <text>', 'speak this text with espeak-ng instead of --audio')
    .option('--voice <voice>', 'espeak-ng voice for --text', 'en-us')
    .requiredOption('--out <file.mp4>', 'output MP4 path')
    .option(
      '--fps <n>',
      "output frames per second (default: a video avatar's own rate, 25 for an image)",
      parseNumberOption('--fps', 1, 60),
    )
    .option('--batch <n>', 'frames per inference batch (default: 32 on CPU, 64 on Triton)', parseIntOption('--batch', 1, 128))
    .option('--box <t,b,l,r>', 'manual face box in pixels: top,bottom,left,right (skips detection)', parseTblr('--box'))
    .option(
      '--pads <t,b,l,r>',
      'pads in pixels around the detected face: top,bottom,left,right (default: a tenth of the box height below)',
      parseTblr('--pads'),
    )
    .option(
      '--face-index <n>',
      "which face when there are several: index in the avatar's faces, largest first (default 0)",
      parseIntOption('--face-index', 0, 99),
    )
    .option('--face-point <x,y>', 'which face: a point in pixels inside its box', parsePoint('--face-point'))
    .option('--no-smooth', 'do not smooth face boxes over 5 frames (video avatars)')
    .addOption(new Option('--encoder <name>', 'H.264 encoder').choices(['auto', 'libx264', 'h264_nvenc']).default('auto'))
    .addOption(new Option('--backend <name>', 'inference backend (default: INFERENCE_BACKEND or onnx)').choices(['onnx', 'triton', 'fake']))
    .addOption(
      new Option('--precision <p>', 'onnx backend: fp32 or int8 model (default: MODEL_PRECISION or fp32)').choices(['fp32', 'int8']),
    )
    .option('--output-height <px>', 'scale the video to this even height', parseIntOption('--output-height', 32, 4320))
    .option('--quality <crf>', 'x264 CRF / NVENC CQ (lower is better)', parseIntOption('--quality', 0, 51))
    .addOption(new Option('--loop <mode>', 'how a video avatar covers longer audio').choices(['loop', 'pingpong']).default('loop'))
    .addOption(
      new Option('--silence <mode>', 'keep: silent frames show the source mouth (no mumbling in pauses); model: paste every frame')
        .choices(['keep', 'model'])
        .default('keep'),
    )
    .option('--json', 'print the result as JSON instead of a table')
    .action(async (opts: RenderOpts) => {
      process.exitCode = await runRender(opts);
    });
}

export async function runRender(opts: RenderOpts): Promise<number> {
  let services: Awaited<ReturnType<typeof createCoreServices>> | undefined;
  let tmpDir: string | undefined;
  // Ctrl-C / SIGTERM cancel the render so ffmpeg is killed and no partial file or temp dir is left.
  const cancel = new AbortController();
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupted = sig;
    cancel.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (!!opts.audio === !!opts.text) throw badInput('give exactly one of --audio <file> or --text "..."');
    if (opts.faceIndex !== undefined && opts.facePoint) throw badInput('give at most one of --face-index or --face-point');
    await assertFile(opts.face, 'face');
    if (opts.audio) await assertFile(opts.audio, 'audio');
    const config = loadConfig(envWith({ INFERENCE_BACKEND: opts.backend, MODEL_PRECISION: opts.precision }));
    services = await createCoreServices(config);
    if (cancel.signal.aborted) throw new Error('interrupted');
    const notice = services.modelNotice();
    if (notice) process.stderr.write(`${notice}\n`);

    let audioPath = opts.audio;
    if (opts.text) {
      tmpDir = await fs.mkdtemp(path.join(os.tmpdir(), 'lipsync-cli-'));
      audioPath = path.join(tmpDir, 'speech.wav');
      await services.speech.synthesize({ text: opts.text, voice: opts.voice }, audioPath, cancel.signal);
    }
    const bar = process.stderr.isTTY ? new ProgressBar(process.stderr) : undefined;
    const result = await services.renderer.render(
      {
        facePath: opts.face,
        audioPath: audioPath!,
        outPath: path.resolve(opts.out),
        fps: opts.fps,
        batchSize: opts.batch,
        box: opts.box,
        pads: opts.pads,
        faceIndex: opts.faceIndex,
        facePoint: opts.facePoint,
        smooth: opts.smooth,
        encoder: opts.encoder,
        outputHeight: opts.outputHeight,
        quality: opts.quality,
        loop: opts.loop,
        silence: opts.silence,
      },
      { signal: cancel.signal, onProgress: (p) => bar?.update(p.framesDone, p.framesTotal) },
    );
    bar?.done();
    const peakRssMb = process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
    process.stdout.write(opts.json ? `${JSON.stringify({ ...result, peakRssMb }, null, 2)}\n` : formatSummary(result, peakRssMb));
    return EXIT_OK;
  } catch (err) {
    if (interrupted) {
      process.stderr.write(`\ninterrupted (${interrupted}): render cancelled, nothing written\n`);
      return interrupted === 'SIGINT' ? 130 : 143;
    }
    return reportError(err);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (tmpDir) await fs.rm(tmpDir, { recursive: true, force: true });
    await services?.close();
  }
}

async function assertFile(p: string, what: string): Promise<void> {
  const st = await fs.stat(p).catch(() => undefined);
  if (!st) throw badInput(`${what} file not found: ${p}`);
  if (!st.isFile()) throw badInput(`${what} is not a regular file: ${p}`);
}

/** The per-stage table printed after a render; stages overlap, so they can add up to more than total. */
export function formatSummary(r: RenderResult, peakRssMb?: number): string {
  const total = r.timings.total ?? 0;
  const lines = [
    `wrote ${r.outPath}`,
    `  ${r.frames} frames at ${r.fps} fps, ${r.width}×${r.height}, ${r.audioSeconds.toFixed(2)} s audio, encoder ${r.encoder}, backend ${r.backend}${r.avatarCached ? ', avatar from cache (no detection)' : ''}`,
    ...(r.model
      ? [
          `  model ${r.model.name}${r.model.precision ? ` (${r.model.precision})` : ''}, ${r.model.origin}: ${r.model.licence}${r.model.note ? ` (${r.model.note})` : ''}`,
        ]
      : []),
    '',
    '  stage        ms      share',
  ];
  for (const s of STAGES) {
    const ms = r.timings[s];
    if (ms === undefined) continue;
    const share = total > 0 && s !== 'total' ? `${((100 * ms) / total).toFixed(0)}%` : '';
    lines.push(`  ${s.padEnd(9)} ${ms.toFixed(0).padStart(8)}   ${share.padStart(5)}`);
  }
  const fps = total > 0 ? (r.frames / (total / 1000)).toFixed(1) : '-';
  const rt = total > 0 ? (r.audioSeconds / (total / 1000)).toFixed(2) : '-';
  lines.push(
    '',
    `  ${fps} frames/s, ${rt}× real time${peakRssMb ? `, peak RSS ${peakRssMb.toFixed(0)} MB` : ''}`,
    '  (stages overlap: shares can add up to more than 100%)',
    '',
  );
  return lines.join('\n');
}
