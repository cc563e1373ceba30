import type { MulterModuleOptions } from '@nestjs/platform-express';
import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import * as fs from 'fs';
import { diskStorage } from 'multer';
import { Observable, finalize } from 'rxjs';
import { GatewayError } from '../common/errors';
import { randomName } from '../jobs/job-files';
import type { SniffResult } from '../media/media-sniff';
import { pinnedFormatOf } from '../media/demuxer-allowlist';
import { sniffFile } from '../media/sniff-file';
import { acceptsUpload, UploadField } from './media-sniff.util';

/** Multer options: random names under DATA_DIR/uploads, size and count limits (LIMIT_FILE_SIZE → 413). */
export function multerOptions(uploadsDir: string, maxUploadBytes: number): MulterModuleOptions {
  return {
    storage: diskStorage({
      destination: uploadsDir,
      filename: (_req, _file, cb) => cb(null, randomName('upload', 'bin')),
    }),
    limits: { fileSize: maxUploadBytes, files: 2, fields: 32, fieldSize: 64 * 1024, parts: 40 },
  };
}

/**
 * Reads the first bytes of an uploaded (or downloaded: URL input, named by its `role`) file and
 * checks them against what the field accepts (415 otherwise).
 */
export async function sniffUpload(file: { path: string; role?: string }, field: UploadField): Promise<SniffResult> {
  const { head, found } = await sniffFile(file.path);
  const name = file.role ?? field;
  if (head.length === 0) throw new GatewayError('VALIDATION_FAILED', `${name}: the ${file.role ? 'downloaded' : 'uploaded'} file is empty`);
  // audio and video are read by ffmpeg: only formats with a pinned demuxer get that far
  if (!found || !acceptsUpload(field, found) || (found.kind !== 'image' && !pinnedFormatOf(found))) {
    const what =
      field === 'audio'
        ? 'audio (WAV, MP3, OGG, FLAC, M4A) or a video with sound'
        : 'image (PNG, JPEG, WebP) or video (MP4, MOV, WebM, MKV)';
    throw new GatewayError(
      'UNSUPPORTED_MEDIA',
      `${name}: the file content is not a supported ${what}${found ? ` (found ${found.format})` : ''}`,
    );
  }
  return found;
}

type UploadedFiles = Express.Multer.File[] | Record<string, Express.Multer.File[]> | undefined;

function uploadedPaths(req: Request & { file?: Express.Multer.File; files?: UploadedFiles }): string[] {
  const out: string[] = [];
  if (req.file?.path) out.push(req.file.path);
  const files = req.files;
  if (Array.isArray(files)) out.push(...files.map((f) => f.path));
  else if (files) for (const list of Object.values(files)) out.push(...list.map((f) => f.path));
  return out.filter(Boolean);
}

/**
 * Deletes whatever multer wrote once the request is over, whatever happened (validation errors
 * included). Handlers move the files they keep, so only leftovers are removed here.
 */
@Injectable()
export class UploadCleanupInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<Request>();
    return next.handle().pipe(
      finalize(() => {
        // Synchronous on purpose: the files are gone before the response goes out.
        for (const p of uploadedPaths(req)) fs.rmSync(p, { force: true });
      }),
    );
  }
}

/** The single file of a FileFieldsInterceptor field, if present. */
export function fieldFile(files: Record<string, Express.Multer.File[]> | undefined, name: string): Express.Multer.File | undefined {
  return files?.[name]?.[0];
}
