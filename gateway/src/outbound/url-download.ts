import * as fs from 'fs';
import { pipeline } from 'stream/promises';
import { Transform } from 'stream';
import { GatewayError } from '../common/errors';
import { OutboundError, OutboundHttp, parseOutboundUrl } from './outbound-http';

/** URL inputs follow at most this many redirects (issue 15). */
export const MAX_URL_REDIRECTS = 3;

export interface DownloadLimits {
  maxBytes: number;
  timeoutMs: number;
}

/** A downloaded input, shaped like a multer upload so it passes exactly the same checks. */
export interface DownloadedFile {
  path: string;
  size: number;
  /** the request field it came from (faceUrl, audioUrl), for error messages */
  role: string;
}

/** OutboundError → the client's error code; the message names the input by role, never internals. */
export function urlError(role: string, err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if (!(err instanceof OutboundError))
    return new GatewayError('URL_UNREACHABLE', `${role} could not be fetched`, undefined, { cause: err });
  switch (err.kind) {
    case 'bad-url':
      return new GatewayError('VALIDATION_FAILED', `${role} ${err.message}`);
    case 'forbidden':
      return new GatewayError('URL_FORBIDDEN', `${role} ${err.message}; only public addresses and OUTBOUND_ALLOW_HOSTS may be fetched`);
    default:
      return new GatewayError('URL_UNREACHABLE', `${role} ${err.message}`);
  }
}

/** Counts bytes and stops the stream once they pass the limit. */
function byteLimit(maxBytes: number, role: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > maxBytes) cb(new GatewayError('URL_TOO_LARGE', `${role} is larger than the ${maxBytes}-byte limit`));
      else cb(null, chunk);
    },
  });
}

/**
 * Fetches `rawUrl` into `dest` (a temp name the caller chose), with the address policy on every
 * hop, at most 3 redirects, a byte limit and one deadline for the whole exchange. On any failure
 * the partial file is removed and a URL_* (or VALIDATION_FAILED) error is thrown.
 */
export async function downloadUrl(
  http: OutboundHttp,
  rawUrl: string,
  role: string,
  dest: string,
  limits: DownloadLimits,
): Promise<DownloadedFile> {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  try {
    const url = parseOutboundUrl(rawUrl);
    const res = await http.send(url, { signal, maxRedirects: MAX_URL_REDIRECTS });
    if (res.status < 200 || res.status > 299) {
      res.body.resume();
      throw new OutboundError('unreachable', `answered HTTP ${res.status}`);
    }
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > limits.maxBytes) {
      res.body.destroy();
      throw new GatewayError('URL_TOO_LARGE', `${role} is ${declared} bytes, over the ${limits.maxBytes}-byte limit`);
    }
    await pipeline(res.body, byteLimit(limits.maxBytes, role), fs.createWriteStream(dest, { flags: 'wx', mode: 0o600 })).catch(
      (err: unknown) => {
        if (err instanceof GatewayError) throw err;
        if (signal.aborted) throw new OutboundError('timeout', 'timed out');
        throw new OutboundError('unreachable', 'broke off while sending', { cause: err });
      },
    );
    const { size } = await fs.promises.stat(dest);
    return { path: dest, size, role };
  } catch (err) {
    await fs.promises.rm(dest, { force: true });
    throw urlError(role, err);
  }
}
