import type { AvailableIps } from '@mtandao/protocol/api';
import { AppError, notFound } from '../errors.ts';
import { formatIp, intersectRanges, mergeRanges, parseBlock, parseIp, prefixRanges, subtractRanges, type Ip, type Range } from '../domain/ip-space.ts';
import type { PoolsRepository } from '../repositories/pools.repository.ts';

/** Blocks larger than this are searched by prefix; smaller ones list every free address. */
export const DROPDOWN_MAX_PREFIX = 24;
const DEFAULT_SEARCH_LIMIT = 100;
const SPACE_CACHE_MS = 5_000;

/** Parses "a.b.c.d" or "a.b.c.d-e.f.g.h" into a range. */
export function parseIpRange(text: string): Range | undefined {
  const [a, b] = text.split('-').map((s) => s.trim());
  const first = a ? parseIp(a) : undefined;
  const last = b === undefined ? first : parseIp(b);
  if (first === undefined || last === undefined || first > last) return undefined;
  return [first, last];
}

/** The rules of which addresses of a block are usable, in one place (NetBox style). */
export class UsableSpace {
  readonly block: { first: Ip; last: Ip; prefix: number };
  /** Usable addresses as sorted, merged ranges. */
  readonly ranges: Range[];
  constructor(cidr: string, gateway: string | null, reserved: Range[]) {
    const block = parseBlock(cidr);
    if (!block) throw new Error(`not a block: ${cidr}`);
    this.block = block;
    const excluded: Range[] = [...reserved];
    const gw = gateway ? parseIp(gateway) : undefined;
    if (gw !== undefined) excluded.push([gw, gw]);
    // network and broadcast addresses are never handed out
    this.ranges = subtractRanges([[block.first + 1, block.last - 1]], mergeRanges(excluded));
  }
  get size(): number {
    return this.ranges.reduce((n, [a, b]) => n + (b - a + 1), 0);
  }
  contains(ip: Ip): boolean {
    return this.ranges.some(([a, b]) => ip >= a && ip <= b);
  }
  /** Usable addresses inside one /24 chunk. */
  capacityOf(chunk: number): number {
    return intersectRanges(this.ranges, [[chunk * 256, chunk * 256 + 255]]).reduce((n, [a, b]) => n + (b - a + 1), 0);
  }
}

/** IP address management: usable space, utilisation and the available-address search. */
export class IpamService {
  constructor(private readonly pools: PoolsRepository) {}

  /**
   * Available addresses of a block matching a typed prefix, in order, without materialising the
   * block: ranges are computed, full /24 chunks are skipped by their allocation count, and only
   * partly used chunks read their allocated rows.
   */
  async availableIps(networkId: string, query: { prefix: string; limit?: number | undefined }): Promise<AvailableIps> {
    const space = await this.cachedSpace(networkId);
    const small = space.block.prefix >= DROPDOWN_MAX_PREFIX;
    const limit = query.limit ?? (small ? 1024 : DEFAULT_SEARCH_LIMIT);
    const wanted = prefixRanges(query.prefix);
    if (!wanted)
      throw new AppError(422, 'prefix must be the start of an IPv4 address, like 10.0.3', {
        field: 'prefix',
        issues: [{ field: 'prefix', message: 'prefix must be the start of an IPv4 address, like 10.0.3' }],
      });
    const ranges = intersectRanges(space.ranges, wanted);
    const ips: string[] = [];
    let truncated = false;
    let firstChunk = true;

    outer: for (const [lo, hi] of ranges) {
      let chunk = Math.floor(lo / 256);
      const lastChunk = Math.floor(hi / 256);
      while (chunk <= lastChunk) {
        // The first chunk is read directly: in the usual pool it alone fills the answer. Past it,
        // allocation counts per /24 step over full stretches without reading their rows.
        let used: Map<number, number> | undefined;
        let batchEnd = chunk;
        if (!firstChunk) {
          const usage = await this.pools.chunkUsage(networkId, chunk, lastChunk, 256);
          batchEnd = usage.length === 256 ? Number(usage[usage.length - 1]!.chunk) : lastChunk;
          used = new Map(usage.map((u) => [Number(u.chunk), u.used]));
        }
        for (; chunk <= batchEnd; chunk++) {
          const segLo = Math.max(lo, chunk * 256);
          const segHi = Math.min(hi, chunk * 256 + 255);
          const n = used ? (used.get(chunk) ?? 0) : -1;
          if (n > 0 && n >= space.capacityOf(chunk)) continue; // full
          const taken = n === 0 ? [] : await this.pools.allocatedBetween(networkId, segLo, segHi);
          firstChunk = false;
          let t = 0;
          for (let ip = segLo; ip <= segHi; ip++) {
            while (t < taken.length && taken[t]! < ip) t++;
            if (t < taken.length && taken[t] === ip) continue;
            if (ips.length === limit) {
              truncated = true;
              break outer;
            }
            ips.push(formatIp(ip));
          }
        }
      }
    }
    return { ips, truncated };
  }

  private readonly spaces = new Map<string, { space: UsableSpace; at: number }>();

  /**
   * A block's usable space, cached for a few seconds: the search runs on every keystroke, pools
   * change rarely, and allocation re-checks the rules inside its transaction anyway.
   */
  private async cachedSpace(networkId: string): Promise<UsableSpace> {
    const hit = this.spaces.get(networkId);
    if (hit && Date.now() - hit.at < SPACE_CACHE_MS) return hit.space;
    const rules = await this.pools.blockRules(networkId);
    if (!rules) throw notFound('Network');
    const space = new UsableSpace(
      rules.cidr,
      rules.gateway,
      rules.reserved.map(([a, b]) => [parseIp(a)!, parseIp(b)!] as Range),
    );
    if (this.spaces.size > 10_000) this.spaces.clear();
    this.spaces.set(networkId, { space, at: Date.now() });
    return space;
  }

  /** Drops cached rules (a pool changed on this instance). */
  forget(): void {
    this.spaces.clear();
  }
}
