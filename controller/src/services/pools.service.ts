import type { CreatePoolRequest, NetworkView, PoolView } from '@mtandao/protocol/api';
import type { Transaction } from 'sequelize';
import { AppError, conflict, invalid, notFound } from '../errors.ts';
import type { RequestMeta } from '../http/route.ts';
import { formatIp, parseBlock, parseIp, type Range } from '../domain/ip-space.ts';
import type { NetworkRow, PoolsRepository } from '../repositories/pools.repository.ts';
import type { RoutersRepository } from '../repositories/routers.repository.ts';
import type { AuditService } from './audit.service.ts';
import { DROPDOWN_MAX_PREFIX, parseIpRange, UsableSpace } from './ipam.service.ts';
import { exclusionViolation, uniqueViolation, type Database } from '../db/database.ts';
import type { Pool } from '../db/models/index.ts';

/** Something that must happen when a pool's gateway changes: plan profiles carry it. */
export type PlanFanout = (planIds: string[], reason: string, meta: RequestMeta, tx: Transaction) => Promise<void>;

function parseNetworks(list: string[]): string[] {
  const out: string[] = [];
  list.forEach((text, i) => {
    const field = `networks.${i}`;
    const m = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
    if (!m || parseIp(m[1]!) === undefined) throw invalid(field, `Network ${text} must be an IPv4 block like 10.64.0.0/16`);
    const prefix = Number(m[2]);
    if (prefix < 8 || prefix > 30) throw invalid(field, `Network ${text} must be between /8 and /30`);
    const block = parseBlock(text);
    if (!block) {
      const ip = parseIp(m[1]!)!;
      const size = 2 ** (32 - prefix);
      throw invalid(field, `Network ${text} is not a block boundary; did you mean ${formatIp(ip - (ip % size))}/${prefix}?`);
    }
    const canonical = `${formatIp(block.base)}/${prefix}`;
    if (out.includes(canonical)) throw invalid(field, `Network ${canonical} is listed twice`);
    out.push(canonical);
  });
  return out;
}

function parseReserved(list: string[] | undefined): [string, string][] {
  return (list ?? []).map((text, i) => {
    const r = parseIpRange(text);
    if (!r) throw invalid(`reserved.${i}`, `Reserved range ${text} must look like 10.64.0.2-10.64.0.9 or a single address`);
    if (r[1] - r[0] > 65_535) throw invalid(`reserved.${i}`, `Reserved range ${text} is larger than 65 536 addresses`);
    return [formatIp(r[0]), formatIp(r[1])];
  });
}

/** Pools of network blocks, their reserved ranges and utilisation. */
export class PoolsService {
  constructor(
    private readonly db: Database,
    private readonly pools: PoolsRepository,
    private readonly routers: RoutersRepository,
    private readonly audit: AuditService,
    private readonly fanoutPlans: PlanFanout,
    private readonly onChange: () => void = () => undefined,
  ) {}

  networkView(n: NetworkRow, space: UsableSpace): NetworkView {
    const usable = space.size;
    const used = Number(n.used);
    return {
      id: String(n.id),
      poolId: String(n.pool_id),
      poolName: n.pool_name,
      cidr: n.cidr,
      prefixLength: space.block.prefix,
      usable,
      used,
      free: Math.max(0, usable - used),
      searchable: space.block.prefix < DROPDOWN_MAX_PREFIX,
    };
  }

  private async views(pools: Pool[], tx?: Transaction): Promise<PoolView[]> {
    const ids = pools.map((p) => String(p.id));
    const [networks, reserved, routers] = await Promise.all([this.pools.networksOfPools(ids, tx), this.pools.reservedOf(ids, tx), this.routers.list()]);
    const routerName = new Map(routers.map((r) => [String(r.id), r.name]));
    return pools.map((p) => {
      const id = String(p.id);
      const res = reserved.filter((r) => String(r.pool_id) === id);
      const ranges = res.map((r) => [parseIp(r.first_ip)!, parseIp(r.last_ip)!] as Range);
      const nets = networks.filter((n) => String(n.pool_id) === id).map((n) => this.networkView(n, new UsableSpace(n.cidr, p.gateway, ranges)));
      const usable = nets.reduce((s, n) => s + n.usable, 0);
      const used = nets.reduce((s, n) => s + n.used, 0);
      return {
        id,
        name: p.name,
        routerId: String(p.routerId),
        routerName: routerName.get(String(p.routerId)) ?? '',
        gateway: p.gateway,
        reserved: res.map((r) => (r.first_ip === r.last_ip ? r.first_ip : `${r.first_ip}-${r.last_ip}`)),
        networks: nets,
        usable,
        used,
        free: Math.max(0, usable - used),
        utilisation: usable === 0 ? 0 : Math.round((used / usable) * 10_000) / 10_000,
      };
    });
  }

  async list() {
    const items = await this.views(await this.pools.listPools());
    return { items, total: items.length };
  }

  async get(id: string): Promise<PoolView> {
    const p = await this.pools.findPool(id);
    if (!p) throw notFound('Pool');
    return (await this.views([p]))[0]!;
  }

  /** The blocks of some pools (a plan's networks), with utilisation. */
  async networksOfPools(poolIds: string[]) {
    const items = (await this.views(await this.pools.existingPools(poolIds))).flatMap((p) => p.networks);
    return { items, total: items.length };
  }

  async listNetworks() {
    const items = (await this.views(await this.pools.listPools())).flatMap((p) => p.networks);
    return { items, total: items.length };
  }

  private async addNetworks(poolId: string, cidrs: string[], tx: Transaction): Promise<void> {
    for (const [i, cidr] of cidrs.entries()) {
      const clash = await this.pools.overlapping(cidr, poolId, tx);
      if (clash) throw conflict(`Network ${cidr} overlaps ${clash.cidr} of pool ${clash.pool_name}`, `networks.${i}`);
      await this.pools.addNetwork(poolId, cidr, tx);
    }
  }

  private checkGateway(gateway: string | null | undefined): string | null {
    if (!gateway) return null;
    if (parseIp(gateway) === undefined) throw invalid('gateway', 'Gateway must be an IPv4 address');
    return gateway;
  }

  async create(meta: RequestMeta, input: CreatePoolRequest): Promise<PoolView> {
    const networks = parseNetworks(input.networks);
    const reserved = parseReserved(input.reserved);
    const gateway = this.checkGateway(input.gateway);
    try {
      const id = await this.db.transaction(async (tx) => {
        if ((await this.routers.existing([input.routerId], tx)).length === 0) throw invalid('routerId', 'Router not found');
        const pool = await this.pools.createPool({ name: input.name, routerId: input.routerId, gateway }, tx);
        const poolId = String(pool.id);
        await this.addNetworks(poolId, networks, tx);
        await this.pools.replaceReserved(poolId, reserved, tx);
        await this.audit.record(meta, 'pool.create', 'pool', poolId, { name: input.name, networks, gateway, reserved }, tx);
        return poolId;
      });
      return this.get(id);
    } catch (err) {
      throw this.translate(err);
    }
  }

  async update(
    meta: RequestMeta,
    id: string,
    input: { name?: string | undefined; networks?: string[] | undefined; gateway?: string | null | undefined; reserved?: string[] | undefined },
  ): Promise<PoolView> {
    const networks = input.networks ? parseNetworks(input.networks) : undefined;
    const reserved = input.reserved ? parseReserved(input.reserved) : undefined;
    const gateway = input.gateway === undefined ? undefined : this.checkGateway(input.gateway);
    try {
      await this.db.transaction(async (tx) => {
        const pool = await this.pools.findPool(id, tx);
        if (!pool) throw notFound('Pool');
        await this.pools.updatePool(id, { ...(input.name ? { name: input.name } : {}), ...(gateway !== undefined ? { gateway } : {}) }, tx);
        if (networks) {
          const current = await this.pools.networksOfPools([id], tx);
          for (const n of current) {
            if (networks.includes(n.cidr)) continue;
            if (await this.pools.networkHasCustomers(String(n.id), tx)) throw conflict(`Network ${n.cidr} has customers and cannot be removed`, 'networks');
            await this.pools.removeNetwork(String(n.id), tx);
          }
          await this.addNetworks(
            id,
            networks.filter((c) => !current.some((n) => n.cidr === c)),
            tx,
          );
        }
        if (reserved) await this.pools.replaceReserved(id, reserved, tx);
        await this.audit.record(meta, 'pool.update', 'pool', id, { name: input.name, networks, gateway, reserved }, tx);
        if (gateway !== undefined && gateway !== pool.gateway) await this.fanoutPlans(await this.pools.plansOfPool(id, tx), 'pool.gateway-changed', meta, tx);
      });
      this.onChange();
      return this.get(id);
    } catch (err) {
      throw this.translate(err);
    }
  }

  private translate(err: unknown): unknown {
    if (exclusionViolation(err)) return new AppError(409, 'Network overlaps another pool', { field: 'networks' });
    if (uniqueViolation(err)) return conflict('A pool with this name already exists', 'name');
    return err;
  }
}
