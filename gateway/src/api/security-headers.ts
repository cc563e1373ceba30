import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * The Content-Security-Policy of every response: Swagger UI at /docs (its own scripts, an inline <style>
 * and style attributes, data: icons) and the web page at / (its own module scripts, blob:/mediastream:
 * media, a WebSocket to this host). The page's files may send a stricter policy of their own
 * (static-site.ts), which replaces this one for them.
 */
export const CONTENT_SECURITY_POLICY = {
  'default-src': ["'self'"],
  'base-uri': ["'self'"],
  'connect-src': ["'self'", 'ws:', 'wss:'],
  'font-src': ["'self'", 'data:'],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
  'img-src': ["'self'", 'data:', 'blob:'],
  'media-src': ["'self'", 'blob:', 'mediastream:'],
  'object-src': ["'none'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'worker-src': ["'self'", 'blob:'],
};

/** helmet's hardening headers, adjusted where its defaults do not fit a media API. */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      // no upgrade-insecure-requests: the gateway is often reached over plain HTTP (localhost, inside a cluster)
      directives: CONTENT_SECURITY_POLICY,
    },
    // players on other origins embed results with <video src>; access is the API key's job, not CORP's
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
}
