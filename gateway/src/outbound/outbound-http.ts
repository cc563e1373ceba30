import * as dns from 'dns';
import * as http from 'http';
import * as https from 'https';
import type { IncomingHttpHeaders, IncomingMessage } from 'http';
import { isIP } from 'net';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';
import { refusedAddressReason } from './address-policy';
import { AllowEntry, isAllowlisted, literalHostRefusal } from './allow-hosts';

/**
 * The one owner of outbound HTTP (URL inputs, webhooks). Every hop, redirects included, passes
 * the address policy twice: our pure policy on the literal host and on every DNS answer, and
 * request-filtering-agent's agent, which checks the address actually connected to (so a DNS
 * answer that changes between a check and the connection cannot slip through). Allowlisted hosts
 * (OUTBOUND_ALLOW_HOSTS) skip the private-address refusal, per hop: a redirect from a trusted host
 * to an untrusted one is checked again.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- mirrors dns.lookup's overloaded callback
export type LookupFn = (hostname: string, options: dns.LookupOptions, callback: (...args: any[]) => void) => void;

export type OutboundFailure = 'bad-url' | 'forbidden' | 'unreachable' | 'refused' | 'timeout' | 'redirects';

export class OutboundError extends Error {
  constructor(
    readonly kind: OutboundFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OutboundError';
  }
}

export interface OutboundSettings {
  allowHosts: readonly AllowEntry[];
  /** DNS lookup used for every connection (tests inject a resolver they control); default dns.lookup */
  lookup?: LookupFn;
}

export interface SendOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** aborts the whole exchange (connection, redirects); an AbortSignal.timeout() reads as 'timeout' */
  signal?: AbortSignal;
  /** redirects followed (GET only); a 3xx beyond this is an error, with 0 a 3xx is returned as is */
  maxRedirects?: number;
}

export interface OutboundResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** the body stream; the caller reads or destroys it */
  body: IncomingMessage;
  /** where the response came from (after redirects) */
  url: URL;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const REFUSED_BY_AGENT = /is not allowed/; // request-filtering-agent's refusal messages

/** Parses a client-given URL: absolute http(s) only, no user:password part. */
export function parseOutboundUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundError('bad-url', 'is not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundError('bad-url', 'must be an http or https URL');
  if (url.username || url.password) throw new OutboundError('bad-url', 'must not contain a user name or password');
  return url;
}

export class OutboundHttp {
  private readonly agents = {
    strict: { http: new RequestFilteringHttpAgent(), https: new RequestFilteringHttpsAgent() },
    trusted: {
      http: new RequestFilteringHttpAgent({ allowPrivateIPAddress: true }),
      https: new RequestFilteringHttpsAgent({ allowPrivateIPAddress: true }),
    },
  };

  constructor(private readonly settings: OutboundSettings) {}

  /** Refuses a URL whose literal IP host the policy forbids, without any connection (pure). */
  checkUrl(url: URL): void {
    const refusal = literalHostRefusal(url, this.settings.allowHosts);
    if (refusal) throw new OutboundError('forbidden', refusal);
  }

  /** Sends one request, following up to `maxRedirects` redirects for GET, each hop checked again. */
  async send(raw: string | URL, opts: SendOptions = {}): Promise<OutboundResponse> {
    let url = typeof raw === 'string' ? parseOutboundUrl(raw) : raw;
    const maxRedirects = opts.maxRedirects ?? 0;
    for (let hop = 0; ; hop++) {
      const res = await this.hop(url, opts);
      const location = res.headers.location;
      if (!REDIRECTS.has(res.status) || maxRedirects === 0 || (opts.method ?? 'GET') !== 'GET') return res;
      res.body.resume(); // discard the redirect's body
      if (hop >= maxRedirects) throw new OutboundError('redirects', `was redirected more than ${maxRedirects} times`);
      if (!location) throw new OutboundError('unreachable', `answered HTTP ${res.status} without a Location`);
      try {
        url = parseOutboundUrl(new URL(location, url).toString());
      } catch (err) {
        throw err instanceof OutboundError ? new OutboundError(err.kind, `redirects to a URL that ${err.message}`) : err;
      }
    }
  }

  private hop(url: URL, opts: SendOptions): Promise<OutboundResponse> {
    this.checkUrl(url);
    const trusted = isAllowlisted(url, this.settings.allowHosts);
    const agents = trusted ? this.agents.trusted : this.agents.strict;
    const secure = url.protocol === 'https:';
    const client = secure ? https : http;
    const lookup = trusted ? this.settings.lookup : guardedLookup(this.settings.lookup ?? dns.lookup);
    return new Promise<OutboundResponse>((resolve, reject) => {
      const req = client.request(
        url,
        {
          method: opts.method ?? 'GET',
          headers: { 'user-agent': 'lipsync-gateway', ...opts.headers },
          agent: secure ? agents.https : agents.http,
          lookup: lookup as never,
          signal: opts.signal,
        },
        (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url }),
      );
      req.on('error', (err) => reject(classify(err, opts.signal)));
      req.end(opts.body);
    });
  }
}

/** A lookup that applies the address policy to every answer before anything connects. */
function guardedLookup(base: LookupFn): LookupFn {
  return (hostname, options, callback) => {
    base(hostname, options, (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => {
      if (err) return callback(err);
      const answers = Array.isArray(address) ? address : [{ address, family: family ?? isIP(address) }];
      for (const a of answers) {
        const reason = refusedAddressReason(a.address);
        if (reason) return callback(new OutboundError('forbidden', `resolves to a ${reason} address (${hostname} → ${a.address})`));
      }
      if (Array.isArray(address)) callback(null, address);
      else callback(null, address, family);
    });
  };
}

/** Maps a request error to what the gateway reports. */
export function classify(err: unknown, signal?: AbortSignal): OutboundError {
  if (err instanceof OutboundError) return err;
  const e = err as NodeJS.ErrnoException;
  if (signal?.aborted) {
    const reason = signal.reason as { name?: string } | undefined;
    return new OutboundError(
      reason?.name === 'TimeoutError' ? 'timeout' : 'unreachable',
      reason?.name === 'TimeoutError' ? 'timed out' : 'was aborted',
      { cause: err },
    );
  }
  if (e?.message && REFUSED_BY_AGENT.test(e.message))
    return new OutboundError('forbidden', 'resolves to an address that is not allowed', { cause: err });
  if (e?.code === 'ECONNREFUSED') return new OutboundError('refused', 'refused the connection', { cause: err });
  if (e?.code === 'ENOTFOUND' || e?.code === 'EAI_AGAIN')
    return new OutboundError('unreachable', 'names a host that does not resolve', { cause: err });
  return new OutboundError('unreachable', `could not be reached${e?.code ? ` (${e.code})` : ''}`, { cause: err });
}
