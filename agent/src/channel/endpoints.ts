import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/**
 * Where the agent may find its controller: every controller URL it knows (the enrolment answer's
 * WebSocket URL first, then the config's `controllers`), and for a URL with a host name every
 * address that name resolves to. The channel walks this list when a controller goes away.
 */

/** One address to dial: `url` carries the IP, `host` and `servername` keep the name for HTTP and TLS. */
export interface Endpoint {
  /** The URL to open (its host may be an IP the name resolved to). */
  url: string;
  /** The URL as configured, for the log. */
  label: string;
  /** Host header when `url` carries a resolved address. */
  host?: string;
  /** TLS server name (SNI and certificate check) when `url` carries a resolved address. */
  servername?: string;
}

/** Resolves a host name to all its addresses (injectable for tests). */
export type Resolver = (hostname: string) => Promise<string[]>;

export const systemResolver: Resolver = async (hostname) => (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

/**
 * The WebSocket URL of a controller base URL: an http(s) URL takes the enrolment answer's path
 * (`/agent`) on that origin; a ws(s) URL is used as given.
 */
export function websocketUrlOf(controller: string, enrolledWebsocketUrl: string): string {
  const url = new URL(controller);
  if (url.protocol === 'ws:' || url.protocol === 'wss:') return url.toString();
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`controller URL ${controller}: expected http(s):// or ws(s)://`);
  const enrolled = new URL(enrolledWebsocketUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = enrolled.pathname;
  url.search = enrolled.search;
  return url.toString();
}

/** The controller WebSocket URLs to try, enrolled one first, duplicates dropped. */
export function controllerUrls(enrolledWebsocketUrl: string, extra: readonly string[] = []): string[] {
  return [...new Set([enrolledWebsocketUrl, ...extra.map((u) => websocketUrlOf(u, enrolledWebsocketUrl))])];
}

const bareHost = (hostname: string): string => (hostname.startsWith('[') ? hostname.slice(1, -1) : hostname);

/**
 * Every address to dial for `urls`, in order: a URL whose host is a name becomes one endpoint per
 * address (a name that does not resolve right now is kept as it is, so the dial reports why).
 */
export async function resolveEndpoints(urls: readonly string[], resolve: Resolver = systemResolver): Promise<Endpoint[]> {
  const lists = await Promise.all(
    urls.map(async (label): Promise<Endpoint[]> => {
      const url = new URL(label);
      const hostname = bareHost(url.hostname);
      if (isIP(hostname) || hostname === 'localhost') return [{ url: label, label }];
      const addresses = await resolve(hostname).catch(() => [] as string[]);
      if (addresses.length <= 1) return [{ url: label, label }];
      return [...new Set(addresses)].map((address) => {
        const direct = new URL(label);
        direct.hostname = isIP(address) === 6 ? `[${address}]` : address;
        return { url: direct.toString(), label: `${label} (${address})`, host: url.host, servername: hostname };
      });
    }),
  );
  return lists.flat();
}
