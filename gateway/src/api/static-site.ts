import * as fs from 'fs';
import * as path from 'path';
import type { INestApplication } from '@nestjs/common';
import { static as serveStatic } from 'express';
import type { Response } from 'express';

export const PUBLIC_DIR_NAME = path.join('gateway', 'public');

/**
 * Finds gateway/public by walking up from `start`, so the page is found from gateway/src (ts-jest),
 * from dist/ (compiled, repo checkout) and inside the Docker image (which copies gateway/public).
 */
export function findPublicDir(start: string = __dirname): string | undefined {
  let dir = start;
  for (;;) {
    const candidate = path.join(dir, PUBLIC_DIR_NAME);
    if (fs.existsSync(path.join(candidate, 'index.html'))) return candidate;
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

// The page loads only its own scripts and styles; media comes from the API or MSE blob: URLs,
// the live session from a WebSocket to this host.
const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self' ws: wss:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

function pageHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', PAGE_CSP);
  // no build step and no hashed names: always revalidate (ETag keeps it cheap)
  res.setHeader('Cache-Control', 'no-cache');
}

/**
 * Serves the web page (gateway/public: plain HTML, ES modules, CSS; no build step) at `/`. Only
 * files that exist there are answered; every other path (the API, /docs, /healthz) falls through.
 * Returns the folder served, or undefined when it is missing (the API works without it).
 */
export function setupStaticSite(app: INestApplication, dir: string | undefined = findPublicDir()): string | undefined {
  if (!dir) return undefined;
  app.use(serveStatic(dir, { index: 'index.html', dotfiles: 'ignore', redirect: false, fallthrough: true, setHeaders: pageHeaders }));
  return dir;
}
