import type { Response } from 'express';
import { GatewayError } from '../common/errors';

/** Headers sendMp4 (and the stream) set for the file; an error sent instead of the file must not keep them. */
const FILE_HEADERS = ['Content-Type', 'Content-Disposition', 'ETag', 'Last-Modified', 'Cache-Control', 'Accept-Ranges', 'Content-Length'];

/** Drops the file's headers so a JSON error that follows is not labelled video/mp4 (res.json keeps a set Content-Type). */
export function clearFileHeaders(res: Pick<Response, 'removeHeader'>): void {
  for (const name of FILE_HEADERS) res.removeHeader(name);
}

/** The status an error from `send` carries (404 missing file, 416 bad range, ...). */
const statusOf = (err: unknown): number | undefined =>
  (err as { status?: number; statusCode?: number }).status ?? (err as { statusCode?: number }).statusCode;

/** Sends an MP4 with Express's `send` (Range → 206, bad range → 416, HEAD, ETag), resolving when done. */
export function sendMp4(res: Response, file: string, downloadName: string): Promise<void> {
  return new Promise((resolve, reject) => {
    res.sendFile(
      file,
      {
        acceptRanges: true,
        dotfiles: 'allow',
        headers: { 'Content-Type': 'video/mp4', 'Content-Disposition': `inline; filename="${downloadName}"` },
      },
      (err) => {
        // A client that hangs up mid-download is not a server error.
        if (!err || res.headersSent) return resolve();
        if (statusOf(err) === 416) {
          // `send` already set `Content-Range: bytes */<size>`; the 416 answer keeps it.
          return reject(
            new GatewayError(
              'RANGE_NOT_SATISFIABLE',
              `the requested range is outside the file (${String(res.getHeader('Content-Range') ?? 'bytes */?')})`,
            ),
          );
        }
        reject(err);
      },
    );
  });
}
