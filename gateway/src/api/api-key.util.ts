import { createHash, timingSafeEqual } from 'crypto';

/** Headers as Node delivers them (lower-case names; repeated headers as arrays). */
export type HeaderBag = Record<string, string | string[] | undefined>;

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** The API key a request presents: `Authorization: Bearer <key>` or `X-API-Key: <key>`; undefined when none. */
export function extractApiKey(headers: HeaderBag): string | undefined {
  const auth = first(headers['authorization'])?.trim();
  if (auth) {
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    if (m) return m[1];
  }
  const key = first(headers['x-api-key'])?.trim();
  return key ? key : undefined;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Constant-time membership test. Hashing first gives equal-length buffers (timingSafeEqual needs
 * them) and every configured key is compared, so the time does not depend on which one matched.
 */
export function isValidApiKey(candidate: string | undefined, keys: readonly string[]): boolean {
  if (candidate === undefined) return false;
  const c = digest(candidate);
  let ok = false;
  for (const key of keys) ok = timingSafeEqual(c, digest(key)) || ok;
  return ok;
}

/**
 * Rate-limit identity: a short hash of a *configured* key (the raw key never sits in the limiter's
 * store), else the IP. Any other presented key is ignored: with no keys configured, or an invalid
 * key, a fresh random value per request would otherwise get a fresh bucket and bypass the limit.
 */
export function rateLimitTracker(headers: HeaderBag, ip: string | undefined, keys: readonly string[]): string {
  const key = extractApiKey(headers);
  return key && keys.length > 0 && isValidApiKey(key, keys) ? `key:${digest(key).toString('hex').slice(0, 16)}` : `ip:${ip ?? 'unknown'}`;
}
