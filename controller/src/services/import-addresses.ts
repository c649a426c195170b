import { formatIp, parseIp, type Range } from '../domain/ip-space.ts';
import type { ImportPlanRow } from '../repositories/imports.repository.ts';
import { UsableSpace } from './ipam.service.ts';

/**
 * Hands out free addresses of a plan's blocks to imported rows with a blank IP, in order, block
 * after block. Each block's used addresses are read once; the unique index still decides a race
 * with a customer added meanwhile (that row is reported, not half-written).
 */
export class AddressAllocator {
  private readonly used = new Map<string, Set<number>>();
  private readonly cursor = new Map<string, { ranges: Range[]; at: number; range: number }>();

  constructor(private readonly readUsed: (networkIds: string[]) => Promise<{ network_id: string; ip: string }[]>) {}

  private async load(networkIds: string[]): Promise<void> {
    const missing = networkIds.filter((id) => !this.used.has(id));
    if (missing.length === 0) return;
    for (const id of missing) this.used.set(id, new Set());
    for (const r of await this.readUsed(missing)) this.used.get(r.network_id)!.add(parseIp(r.ip)!);
  }

  /** Addresses rows of the file ask for by name: never handed to a row with a blank IP. */
  reserve(ips: Iterable<string>): void {
    for (const ip of ips) {
      const n = parseIp(ip.trim());
      if (n !== undefined) this.reserved.add(n);
    }
  }
  private readonly reserved = new Set<number>();

  /** Marks an address a row asked for as taken. */
  take(networkId: string, ip: string): void {
    this.used.get(networkId)?.add(parseIp(ip)!);
  }

  /** The next free address of the plan's blocks, or undefined when they are full. */
  async next(plan: ImportPlanRow): Promise<{ networkId: string; ip: string } | undefined> {
    await this.load(plan.blocks.map((b) => b.id));
    for (const b of plan.blocks) {
      let c = this.cursor.get(b.id);
      if (!c) {
        const space = new UsableSpace(
          b.cidr,
          b.gateway,
          b.reserved.map(([x, y]) => [parseIp(x)!, parseIp(y)!] as Range),
        );
        c = { ranges: space.ranges, range: 0, at: space.ranges[0]?.[0] ?? 0 };
        this.cursor.set(b.id, c);
      }
      const used = this.used.get(b.id)!;
      while (c.range < c.ranges.length) {
        const [, last] = c.ranges[c.range]!;
        while (c.at <= last) {
          const ip = c.at++;
          if (!used.has(ip) && !this.reserved.has(ip)) {
            used.add(ip);
            return { networkId: b.id, ip: formatIp(ip) };
          }
        }
        c.range++;
        c.at = c.ranges[c.range]?.[0] ?? 0;
      }
    }
    return undefined;
  }
}
