import { GatewayError } from '../common/errors';
import { extractApiKey, HeaderBag, isValidApiKey } from '../api/api-key.util';
import { hashFile } from '../api/avatar-store.service';
import { idempotencyScope, recordName, requestFingerprint, validIdempotencyKey } from './request-fingerprint';
import type { IdempotencyRecord, IdempotencyStore } from './idempotency-store';

export interface IdempotentRequest {
  /** the request's headers: Idempotency-Key (none: no idempotency) and the API key that scopes it */
  headers: HeaderBag;
  route: string;
  /** the validated, normalised fields (URLs included) */
  fields: object;
  /** uploaded files by field: their contents are part of "the same request" */
  files: Record<string, { path: string } | undefined>;
}

/** A pending claim older than this belongs to a request that died (submission is bounded by upload and fetch limits). */
const STALE_PENDING_MS = 15 * 60_000;

export interface IdempotentOutcome<T> {
  body: T;
  /** true when this answers a repeat of an earlier request (HTTP 200 instead of 201/202) */
  replayed: boolean;
}

/** the resource's current view (the jobs driver may read it asynchronously); undefined when it expired */
type CurrentView<T> = T | undefined | Promise<T | undefined>;

/**
 * Idempotency-Key on POST /v1/jobs and /v1/avatars: the same key with the same request within the
 * TTL answers with what the first one created (same id); the same key with a different request is
 * 422 IDEMPOTENCY_MISMATCH. Duplicates that arrive while the first is still running wait for it in
 * this process (so they cannot create a second job); one held by another process is 409 CONFLICT.
 * A first request that fails leaves no record, so the client may retry with the same key.
 */
export class IdempotencyService {
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly store: IdempotencyStore,
    private readonly settings: { ttlSeconds: number; apiKeys: readonly string[] },
  ) {}

  /** The scope of a request's keys: its (valid, configured) API key, else the shared open scope. */
  private scopeOf(headers: HeaderBag): string {
    const apiKey = extractApiKey(headers);
    const valid = this.settings.apiKeys.length > 0 && isValidApiKey(apiKey, this.settings.apiKeys);
    return idempotencyScope(valid ? apiKey : undefined);
  }

  async run<T>(
    req: IdempotentRequest,
    create: () => Promise<{ id: string; body: T }>,
    current: (id: string) => CurrentView<T>,
  ): Promise<IdempotentOutcome<T>> {
    const key = validIdempotencyKey(req.headers['idempotency-key']);
    if (key === undefined) return { body: (await create()).body, replayed: false };
    const hashes: Record<string, string | undefined> = {};
    for (const [field, file] of Object.entries(req.files)) hashes[field] = file ? await hashFile(file.path) : undefined;
    const fingerprint = requestFingerprint(req.route, req.fields, hashes);
    const name = recordName(this.scopeOf(req.headers), key);

    // One request per key at a time in this process: a duplicate waits for the first one's outcome.
    while (this.inFlight.has(name)) await this.inFlight.get(name)!.catch(() => undefined);
    let done!: () => void;
    this.inFlight.set(name, new Promise<void>((resolve) => (done = resolve)));
    try {
      const now = Date.now();
      const pending: IdempotencyRecord = {
        fingerprint,
        route: req.route,
        state: 'pending',
        createdAt: new Date(now).toISOString(),
        expiresAt: new Date(now + this.settings.ttlSeconds * 1000).toISOString(),
      };
      let claim = await this.store.claim(name, pending, now);
      if (claim.kind === 'exists' && claim.record.state === 'pending' && now - Date.parse(claim.record.createdAt) > STALE_PENDING_MS) {
        // its request died with a crashed process: the key is free again
        await this.store.release(name);
        claim = await this.store.claim(name, pending, now);
      }
      if (claim.kind === 'exists') return await this.replay(claim.record, fingerprint, req.route, current);
      let created: { id: string; body: T };
      try {
        created = await create();
      } catch (err) {
        await this.store.release(name);
        throw err;
      }
      await this.store.complete(name, { ...pending, state: 'done', resourceId: created.id, response: created.body });
      return { body: created.body, replayed: false };
    } finally {
      this.inFlight.delete(name);
      done();
    }
  }

  private async replay<T>(
    record: IdempotencyRecord,
    fingerprint: string,
    route: string,
    current: (id: string) => CurrentView<T>,
  ): Promise<IdempotentOutcome<T>> {
    if (record.fingerprint !== fingerprint || record.route !== route) {
      throw new GatewayError(
        'IDEMPOTENCY_MISMATCH',
        'this Idempotency-Key was used for a different request; use a new key for a new request',
      );
    }
    if (record.state !== 'done' || !record.resourceId) {
      throw new GatewayError('CONFLICT', 'a request with this Idempotency-Key is still being processed; retry shortly');
    }
    return { body: (await current(record.resourceId)) ?? (record.response as T), replayed: true };
  }

  /**
   * Removes expired records, and claims left pending by requests that cannot still be running: at
   * start every pending one (this process owns the directory), later those older than STALE_PENDING_MS.
   */
  sweep(atStart: boolean, now = Date.now()): Promise<number> {
    return this.store.sweep(now, atStart ? 0 : STALE_PENDING_MS);
  }
}
