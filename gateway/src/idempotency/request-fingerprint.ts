import { createHash } from 'crypto';
import { GatewayError } from '../common/errors';

/**
 * Pure pieces of idempotency: what counts as "the same request", and whose key it is.
 *
 * Same request = the same route, the same validated fields after normalisation (trimmed strings,
 * numbers parsed, defaults not filled in, key order and absent fields irrelevant), the same
 * uploaded file contents (sha256) and the same input URLs (as given, not their content).
 */
const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

/** JSON with sorted keys and undefined dropped, so field order and absent fields do not matter. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The fingerprint of a request: route + normalised fields + file content hashes. */
export function requestFingerprint(route: string, fields: object, fileHashes: Record<string, string | undefined>): string {
  return sha256(canonicalJson({ route, fields, files: fileHashes }));
}

/** Idempotency-Key: 1–255 visible ASCII characters (the IETF draft's recommendation of a UUID fits). */
export function validIdempotencyKey(raw: string | string[] | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const key = Array.isArray(raw) ? raw[0] : raw;
  if (Array.isArray(raw) && raw.length > 1) throw new GatewayError('VALIDATION_FAILED', 'send one Idempotency-Key header');
  if (!/^[\x21-\x7e]{1,255}$/.test(key ?? ''))
    throw new GatewayError('VALIDATION_FAILED', 'Idempotency-Key must be 1–255 visible ASCII characters (e.g. a UUID)');
  return key;
}

/** Keys are scoped per API key (a hash of it), or shared when the server has no API keys. */
export function idempotencyScope(apiKey: string | undefined): string {
  return apiKey ? `key:${sha256(apiKey).slice(0, 32)}` : 'open';
}

/** The storage name of a (scope, key) pair: never the raw key, fixed length, safe as a file name. */
export function recordName(scope: string, key: string): string {
  return sha256(`${scope}\n${key}`);
}
