import { Command } from 'commander';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { assertWritableDirFor } from '../common/fs-util';
import { AvatarService } from '../face/avatar.service';
import { FaceApiDetector } from '../face/face-detector';
import { CROP_SIZE } from '../face/face.types';
import { ImageAdapter } from '../face/image.adapter';
import { drawInspection } from '../face/inspect-draw';
import { FfmpegRunner } from '../media/ffmpeg-runner';
import type { Tblr } from '../render/render.types';
import { badInput, EXIT_OK, parseIntOption, parsePoint, parseTblr, reportError } from './cli-util';

interface InspectOpts {
  face: string;
  out: string;
  box?: Tblr;
  pads?: Tblr;
  faceIndex?: number;
  facePoint?: [number, number];
  json?: boolean;
}

/**
 * `lipsync inspect --face f.png --out inspect.png`: what the model will see. The avatar's first
 * frame with every face found (grey), the padded box used (green), its half line (yellow: Wav2Lip
 * redraws the lower half), the 5 landmarks (red), and the 96×96 crop (×2) on the right.
 */
export function registerInspectCommand(program: Command): Command {
  return program
    .command('inspect')
    .description('draw the face box, landmarks and the 96×96 model crop of an avatar into a PNG')
    .requiredOption('--face <file>', 'avatar: PNG, JPEG or WebP image, or a short video (its first frame)')
    .requiredOption('--out <file.png>', 'output PNG')
    .option('--box <t,b,l,r>', 'manual face box in pixels: top,bottom,left,right', parseTblr('--box'))
    .option('--pads <t,b,l,r>', 'pads in pixels (default: a tenth of the box height below)', parseTblr('--pads'))
    .option('--face-index <n>', 'which face: index in the faces found, largest first', parseIntOption('--face-index', 0, 99))
    .option('--face-point <x,y>', 'which face: a point inside its box', parsePoint('--face-point'))
    .option('--json', 'also print the box, method, faces and landmarks as JSON')
    .action(async (opts: InspectOpts) => {
      process.exitCode = await runInspect(opts);
    });
}

export async function runInspect(opts: InspectOpts): Promise<number> {
  const detector = new FaceApiDetector();
  const cache = await fs.mkdtemp(path.join(os.tmpdir(), 'lipsync-inspect-'));
  try {
    if (opts.faceIndex !== undefined && opts.facePoint) throw badInput('give at most one of --face-index or --face-point');
    await assertWritableDirFor(opts.out);
    const images = new ImageAdapter();
    const avatars = new AvatarService(new FfmpegRunner(), images, detector, {
      cacheDir: cache,
      maxImagePixels: 4096 * 4096,
      maxVideoSeconds: 60,
    });
    const a = await avatars.prepare(opts.face, {
      box: opts.box,
      pads: opts.pads,
      faceIndex: opts.faceIndex,
      facePoint: opts.facePoint,
      smooth: false,
    });
    const box = a.box(0);
    const drawn = drawInspection(a.frame(0), a.width, a.height, {
      faces: a.face.faces.map((f) => f.box),
      box,
      landmarks: a.face.landmarks,
    });
    await fs.writeFile(opts.out, await images.encodeInspectPng(drawn, a.width, a.height, a.crop(0), CROP_SIZE));
    const summary = { out: opts.out, width: a.width, height: a.height, ...a.face, faceBox: a.face.box, box };
    process.stdout.write(
      opts.json
        ? `${JSON.stringify(summary, null, 2)}\n`
        : `wrote ${opts.out}: box ${box.x1},${box.y1}–${box.x2},${box.y2} (${a.face.method}), ${a.face.faces.length} face(s)\n`,
    );
    return EXIT_OK;
  } catch (err) {
    return reportError(err);
  } finally {
    await detector.close();
    await fs.rm(cache, { recursive: true, force: true });
  }
}
