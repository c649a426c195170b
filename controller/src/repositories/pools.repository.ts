import type { Transaction } from 'sequelize';
import { Network, Pool, PoolReserved } from '../db/models/index.ts';
import type { Database } from '../db/database.ts';

/** A network block with its pool's rules of use. */
export interface NetworkRow {
  id: string;
  pool_id: string;
  pool_name: string;
  router_id: string;
  cidr: string;
  gateway: string | null;
  used: number;
}

/** A block and the rules of its pool. */
export interface BlockRow {
  id: string;
  pool_id: string;
  router_id: string;
  cidr: string;
  gateway: string | null;
  reserved: [string, string][];
}

const NETWORK_SELECT = `
  SELECT n.id, n.pool_id, p.name AS pool_name, p.router_id, n.cidr::text AS cidr, host(p.gateway) AS gateway,
         COALESCE((SELECT sum(used) FROM network_chunks c WHERE c.network_id = n.id), 0)::int AS used
    FROM networks n JOIN pools p ON p.id = n.pool_id`;

export class PoolsRepository {
  constructor(private readonly db: Database) {}

  listPools(): Promise<Pool[]> {
    return Pool.findAll({ order: [['name', 'ASC']] });
  }
  findPool(id: string, tx?: Transaction): Promise<Pool | null> {
    return Pool.findByPk(id, { transaction: tx });
  }
  async existingPools(ids: string[], tx?: Transaction): Promise<Pool[]> {
    if (ids.length === 0) return [];
    return Pool.findAll({ where: { id: ids }, transaction: tx });
  }
  createPool(data: { name: string; routerId: string; gateway: string | null }, tx: Transaction): Promise<Pool> {
    return Pool.create(data, { transaction: tx });
  }
  async updatePool(id: string, patch: { name?: string; gateway?: string | null }, tx: Transaction): Promise<void> {
    await Pool.update({ ...patch, updatedAt: new Date() }, { where: { id }, transaction: tx });
  }

  networksOfPools(poolIds: string[], tx?: Transaction): Promise<NetworkRow[]> {
    if (poolIds.length === 0) return Promise.resolve([]);
    return this.db.rows<NetworkRow>(`${NETWORK_SELECT} WHERE n.pool_id = ANY($1::bigint[]) ORDER BY n.cidr`, [poolIds], tx);
  }
  /** The blocks of some pools with what decides their usable addresses (no utilisation). */
  blocksOfPools(poolIds: string[], tx?: Transaction): Promise<BlockRow[]> {
    if (poolIds.length === 0) return Promise.resolve([]);
    return this.db.rows<BlockRow>(
      `SELECT n.id, n.pool_id, p.router_id, n.cidr::text AS cidr, host(p.gateway) AS gateway,
              COALESCE((SELECT json_agg(json_build_array(host(r.first_ip), host(r.last_ip))) FROM pool_reserved r WHERE r.pool_id = p.id), '[]'::json) AS reserved
         FROM networks n JOIN pools p ON p.id = n.pool_id WHERE n.pool_id = ANY($1::bigint[]) ORDER BY n.cidr`,
      [poolIds],
      tx,
    );
  }
  /** A block with its pool's gateway and reserved ranges, in one round trip (the search's hot path). */
  async blockRules(id: string): Promise<{ cidr: string; gateway: string | null; reserved: [string, string][] } | undefined> {
    const rows = await this.db.prepared<{ cidr: string; gateway: string | null; reserved: [string, string][] | null }>(
      'ipam.block-rules',
      `SELECT n.cidr::text AS cidr, host(p.gateway) AS gateway,
              (SELECT json_agg(json_build_array(host(r.first_ip), host(r.last_ip))) FROM pool_reserved r WHERE r.pool_id = p.id) AS reserved
         FROM networks n JOIN pools p ON p.id = n.pool_id WHERE n.id = $1`,
      [id],
    );
    const r = rows[0];
    return r ? { cidr: r.cidr, gateway: r.gateway, reserved: r.reserved ?? [] } : undefined;
  }
  addNetwork(poolId: string, cidr: string, tx: Transaction): Promise<Network> {
    return Network.create({ poolId, cidr }, { transaction: tx });
  }
  async removeNetwork(id: string, tx: Transaction): Promise<void> {
    await Network.destroy({ where: { id }, transaction: tx });
  }
  async networkHasCustomers(id: string, tx: Transaction): Promise<boolean> {
    const rows = await this.db.rows('SELECT 1 FROM customers WHERE network_id = $1 LIMIT 1', [id], tx);
    return rows.length > 0;
  }
  /** The pool whose block overlaps `cidr`, if any (for a clear 409 before the constraint fires). */
  async overlapping(cidr: string, exceptPoolId: string | null, tx: Transaction): Promise<{ cidr: string; pool_name: string } | undefined> {
    const rows = await this.db.rows<{ cidr: string; pool_name: string }>(
      `SELECT n.cidr::text AS cidr, p.name AS pool_name FROM networks n JOIN pools p ON p.id = n.pool_id
        WHERE n.cidr && $1::cidr AND ($2::bigint IS NULL OR n.pool_id <> $2::bigint) LIMIT 1`,
      [cidr, exceptPoolId],
      tx,
    );
    return rows[0];
  }

  reservedOf(poolIds: string[], tx?: Transaction): Promise<{ pool_id: string; first_ip: string; last_ip: string }[]> {
    if (poolIds.length === 0) return Promise.resolve([]);
    return this.db.rows(
      'SELECT pool_id, host(first_ip) AS first_ip, host(last_ip) AS last_ip FROM pool_reserved WHERE pool_id = ANY($1::bigint[]) ORDER BY first_ip',
      [poolIds],
      tx,
    );
  }
  async replaceReserved(poolId: string, ranges: [string, string][], tx: Transaction): Promise<void> {
    await PoolReserved.destroy({ where: { poolId }, transaction: tx });
    if (ranges.length > 0)
      await PoolReserved.bulkCreate(
        ranges.map(([firstIp, lastIp]) => ({ poolId, firstIp, lastIp })),
        { transaction: tx },
      );
  }

  /** Chunk usage rows (allocated per /24) with used > 0, in order, from `fromChunk`. */
  chunkUsage(networkId: string, fromChunk: number, toChunk: number, limit: number): Promise<{ chunk: string; used: number }[]> {
    return this.db.prepared(
      'ipam.chunk-usage',
      `SELECT chunk, sum(used)::int AS used FROM network_chunks WHERE network_id = $1 AND chunk BETWEEN $2 AND $3
        GROUP BY chunk HAVING sum(used) > 0 ORDER BY chunk LIMIT $4`,
      [networkId, fromChunk, toChunk, limit],
    );
  }
  /** Allocated addresses of a network between two addresses, as numbers, in order. */
  async allocatedBetween(networkId: string, lo: number, hi: number): Promise<number[]> {
    const rows = await this.db.prepared<{ n: string }>(
      'ipam.allocated-between',
      `SELECT (ip_address - '0.0.0.0'::inet) AS n FROM customers
        WHERE network_id = $1 AND ip_address BETWEEN '0.0.0.0'::inet + $2::bigint AND '0.0.0.0'::inet + $3::bigint ORDER BY ip_address`,
      [networkId, lo, hi],
    );
    return rows.map((r) => Number(r.n));
  }
  /** Plans using a pool (their profiles carry the pool's gateway). */
  async plansOfPool(poolId: string, tx?: Transaction): Promise<string[]> {
    const rows = await this.db.rows<{ plan_id: string }>('SELECT plan_id FROM plan_pools WHERE pool_id = $1', [poolId], tx);
    return rows.map((r) => String(r.plan_id));
  }
}
