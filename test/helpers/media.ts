import { execFile } from 'child_process';
import * as path from 'path';
import { promisify } from 'util';

const exec = promisify(execFile);

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const FIXTURES = path.resolve(REPO_ROOT, 'test', 'fixtures');
export const ASTRONAUT = path.join(FIXTURES, 'faces', 'astronaut.png');
export const ASTRONAUT_VIDEO = path.join(FIXTURES, 'faces', 'astronaut-sway.mp4');
export const DEMO_MODEL = path.join(REPO_ROOT, 'model_repository', 'wav2lip', '1', 'model.onnx');

/** Runs ffmpeg quietly, overwriting outputs (`-hide_banner -loglevel error -y` before `args`). */
export async function runFfmpeg(args: string[]): Promise<void> {
  await exec('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
}

/** espeak-ng speech, then padded/cut by ffmpeg to exactly `seconds` (16 kHz mono WAV). */
export async function makeSpeech(out: string, seconds: number, text = 'Hello, this is a short lip sync test sentence.'): Promise<void> {
  const raw = `${out}.espeak.wav`;
  await exec('espeak-ng', ['-v', 'en-us', '-s', '170', '-w', raw, text]);
  await runFfmpeg(['-i', raw, '-af', `apad=whole_dur=${seconds}`, '-t', String(seconds), '-ar', '16000', '-ac', '1', out]);
}

export interface ProbeStream {
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  nb_frames?: string;
  duration?: string;
  pix_fmt?: string;
}

export async function ffprobe(file: string): Promise<{ streams: ProbeStream[]; format: { duration: string; format_name: string } }> {
  const { stdout } = await exec('ffprobe', [
    '-v',
    'error',
    '-print_format',
    'json',
    '-show_streams',
    '-show_format',
    '-count_frames',
    file,
  ]);
  return JSON.parse(stdout);
}

/** Decodes every video frame of `file` to RGB24 (width × height × 3 each). */
export async function decodeFrames(file: string, width: number, height: number): Promise<Uint8Array[]> {
  const { stdout } = await exec(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    {
      encoding: 'buffer',
      maxBuffer: 1 << 30,
    },
  );
  const size = width * height * 3;
  const frames: Uint8Array[] = [];
  for (let o = 0; o + size <= stdout.length; o += size) frames.push(new Uint8Array(stdout.buffer, stdout.byteOffset + o, size));
  return frames;
}

/** Mean absolute difference over a rectangle [x1,x2)×[y1,y2) of two RGB24 images. */
export function meanAbsDiff(a: Uint8Array, b: Uint8Array, width: number, r: { x1: number; y1: number; x2: number; y2: number }): number {
  let sum = 0;
  let n = 0;
  for (let y = r.y1; y < r.y2; y++) {
    for (let x = r.x1; x < r.x2; x++) {
      const o = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) sum += Math.abs(a[o + c] - b[o + c]);
      n += 3;
    }
  }
  return n ? sum / n : 0;
}
