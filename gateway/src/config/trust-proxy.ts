import { isIP } from 'net';

/**
 * TRUST_PROXY (issue 10, item 4): which proxies may say who the client is (X-Forwarded-For), so
 * clients behind a load balancer get their own rate-limit bucket. Unset or empty: none (the peer
 * address is the client). A number: that many proxy hops in front of the server. Otherwise a comma-
 * separated list of addresses or CIDR ranges of trusted proxies. The result is Express's
 * `trust proxy` setting. Pure; returns a message for invalid input.
 */
export type TrustProxy = false | number | string[];

export function parseTrustProxy(text: string | undefined): { value: TrustProxy } | { error: string } {
  const t = (text ?? '').trim();
  if (!t || t === 'false' || t === '0') return { value: false };
  if (/^\d+$/.test(t)) {
    const hops = Number(t);
    return hops <= 10 ? { value: hops } : { error: 'a hop count must be at most 10' };
  }
  const items = t
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) {
    const [addr, bits, ...rest] = item.split('/');
    const family = isIP(addr);
    const max = family === 4 ? 32 : 128;
    const bitsOk = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= max);
    if (!family || !bitsOk || rest.length) return { error: `"${item}" is not an IP address or CIDR range` };
  }
  return { value: items };
}
