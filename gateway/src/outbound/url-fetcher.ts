import * as fs from 'fs';
import * as path from 'path';
import { randomName } from '../jobs/job-files';
import { DownloadedFile, DownloadLimits, downloadUrl } from './url-download';
import type { OutboundHttp } from './outbound-http';

/**
 * URL inputs (faceUrl, audioUrl): downloads land in DATA_DIR/uploads under a random temp name, like
 * multer's uploads, so they pass the same sniffing and format checks and the same start-up sweep.
 * Callers release() what they did not move away, on every path.
 */
export class UrlFetcher {
  constructor(
    private readonly http: OutboundHttp,
    private readonly uploadsDir: string,
    private readonly limits: DownloadLimits,
  ) {}

  fetch(rawUrl: string, role: string): Promise<DownloadedFile> {
    return downloadUrl(this.http, rawUrl, role, path.join(this.uploadsDir, randomName('download', 'part')), this.limits);
  }

  /** Removes downloads that were not moved into a job or avatar (no-op for moved ones). */
  async release(...files: Array<DownloadedFile | undefined>): Promise<void> {
    await Promise.all(files.map((f) => (f ? fs.promises.rm(f.path, { force: true }) : Promise.resolve())));
  }
}
