import type { Response } from 'express';

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
        if (err && !res.headersSent) reject(err);
        else resolve();
      },
    );
  });
}
