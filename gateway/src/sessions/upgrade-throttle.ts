import { createHash } from 'crypto';
import type { IncomingMessage } from 'http';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { rateLimitTracker } from '../api/api-key.util';

/** Express's compiled `trust proxy` (TRUST_PROXY): may address `addr`, `hop` proxies from the server, say who the client is? */
export type TrustFn = (addr: string, hop: number) => boolean;

/**
 * The client address of a request under the `trust proxy` rules, as Express computes `req.ip`
 * (proxy-addr): from the peer address back through X-Forwarded-For, the first address that is not
 * a trusted proxy. The WebSocket upgrade is not an Express request, so it gets its address here.
 */
export function clientAddress(req: Pick<IncomingMessage, 'headers' | 'socket'>, trust: TrustFn): string | undefined {
  const header = req.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .reverse();
  const addrs = [req.socket.remoteAddress, ...forwarded];
  for (let hop = 0; hop < addrs.length - 1; hop++) {
    const addr = addrs[hop];
    if (addr === undefined || !trust(addr, hop)) return addr;
  }
  return addrs[addrs.length - 1];
}

export type ThrottleVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

const WINDOW_MS = 60_000;

/**
 * The REST rate limit (RATE_LIMIT_PER_MINUTE per valid API key, else per client address; blocked
 * for a window once over) applied to WebSocket upgrades before they are accepted, with the same
 * throttler storage (Redis with QUEUE=redis, so the limit holds across API replicas). Upgrades
 * count in their own bucket, as each REST route does.
 */
export class UpgradeThrottle {
  constructor(
    private readonly storage: ThrottlerStorage,
    private readonly limitPerMinute: number,
    private readonly apiKeys: readonly string[],
  ) {}

  /** `apiKey`: the key the upgrade carries (headers or ?key=: upgradeApiKey); `ip`: clientAddress(). */
  async check(apiKey: string | undefined, ip: string | undefined): Promise<ThrottleVerdict> {
    const tracker = rateLimitTracker({ 'x-api-key': apiKey }, ip, this.apiKeys);
    const key = createHash('sha256').update(`SessionsSocket-upgrade-default-${tracker}`).digest('hex');
    const r = await this.storage.increment(key, WINDOW_MS, this.limitPerMinute, WINDOW_MS, 'default');
    return r.isBlocked ? { allowed: false, retryAfterSeconds: Math.max(1, r.timeToBlockExpire) } : { allowed: true };
  }
}
