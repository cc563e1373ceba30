import { isIP } from 'net';
import { refusedAddressReason } from './address-policy';

/**
 * OUTBOUND_ALLOW_HOSTS: trusted hosts (e.g. an object store on the LAN) that URL inputs and
 * webhooks may reach whatever address they resolve to. Entries are exact: `host`, `host:port`,
 * `1.2.3.4`, `1.2.3.4:9000`, `[fd00::5]`, `[fd00::5]:9000`. A bare host allows every port;
 * with a port only that port. Pure: no DNS, no connection.
 */
export interface AllowEntry {
  /** lower-case host name, IPv4, or bracketed IPv6 as WHATWG URL spells it */
  host: string;
  port?: number;
}

const ENTRY = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::(\d{1,5}))?$/;

/** Parses the comma-separated list; throws with the offending entry when one is malformed. */
export function parseAllowHosts(raw: string | undefined): AllowEntry[] {
  const entries: AllowEntry[] = [];
  for (const item of (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = ENTRY.exec(item);
    const port = m?.[2] === undefined ? undefined : Number(m[2]);
    let host: string | undefined;
    try {
      // URL parsing gives the spelling URLs will be compared in (lower case, canonical IPv6).
      host = m ? new URL(`http://${m[1]}/`).hostname : undefined;
    } catch {
      host = undefined;
    }
    if (!host || (port !== undefined && (port < 1 || port > 65535))) {
      throw new Error(`OUTBOUND_ALLOW_HOSTS entry "${item}" is not a host, IP or host:port`);
    }
    entries.push(port === undefined ? { host } : { host, port });
  }
  return entries;
}

/** The port a URL connects to (explicit, or the scheme's default). */
export function effectivePort(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/** true when the URL's host (and port, when the entry names one) is allowlisted. */
export function isAllowlisted(url: URL, entries: readonly AllowEntry[]): boolean {
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  const port = effectivePort(url);
  return entries.some((e) => e.host === host && (e.port === undefined || e.port === port));
}

/**
 * Why a URL's host is refused before any DNS or connection: a literal IP the address policy
 * forbids, or a localhost name; undefined when it may be tried (names are checked per DNS answer).
 */
export function literalHostRefusal(url: URL, entries: readonly AllowEntry[]): string | undefined {
  if (isAllowlisted(url, entries)) return undefined;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (isIP(host) === 0) return host === 'localhost' || host.endsWith('.localhost') ? `points at a loopback host (${host})` : undefined;
  const reason = refusedAddressReason(host);
  return reason ? `points at a ${reason} address (${host})` : undefined;
}
