import type { CreationAttributes } from 'sequelize';
import type { Transaction } from 'sequelize';
import { Plan, PlanPool, PlanRouter } from '../db/models/index.ts';
import type { Database } from '../db/database.ts';

/** A plan row with the ids of its routers and pools. */
export interface PlanWithLinks {
  id: string;
  name: string;
  connection_type: Plan['connectionType'];
  price_minor: string;
  download_speed: string;
  upload_speed: string;
  validity_count: number;
  validity_unit: Plan['validityUnit'];
  archived: boolean;
  router_ids: string[];
  pool_ids: string[];
}

export class PlansRepository {
  constructor(private readonly db: Database) {}

  /** The plans a router carries. */
  async idsOnRouter(routerId: string): Promise<string[]> {
    const rows = await this.db.rows<{ plan_id: string }>('SELECT plan_id FROM plan_routers WHERE router_id = $1', [routerId]);
    return rows.map((r) => String(r.plan_id));
  }

  list(filter: { connectionType?: string | undefined } = {}): Promise<Plan[]> {
    return Plan.findAll({ where: filter.connectionType ? { connectionType: filter.connectionType } : {}, order: [['name', 'ASC']] });
  }
  findById(id: string, tx?: Transaction): Promise<Plan | null> {
    return Plan.findByPk(id, { transaction: tx });
  }
  /** A plan with its router and pool ids, in one round trip. */
  async withLinks(id: string, tx?: Transaction): Promise<PlanWithLinks | undefined> {
    const rows = await this.db.rows<PlanWithLinks>(
      `SELECT p.id, p.name, p.connection_type, p.price_minor, p.download_speed, p.upload_speed, p.validity_count, p.validity_unit, p.archived,
              ARRAY(SELECT router_id::text FROM plan_routers WHERE plan_id = p.id ORDER BY router_id) AS router_ids,
              ARRAY(SELECT pool_id::text FROM plan_pools WHERE plan_id = p.id ORDER BY pool_id) AS pool_ids
         FROM plans p WHERE p.id = $1`,
      [id],
      tx,
    );
    return rows[0];
  }
  async findByIds(ids: string[]): Promise<Plan[]> {
    return ids.length === 0 ? [] : Plan.findAll({ where: { id: ids } });
  }
  create(data: Omit<CreationAttributes<Plan>, 'id' | 'createdAt' | 'updatedAt'>, tx: Transaction): Promise<Plan> {
    return Plan.create(data, { transaction: tx });
  }
  async update(id: string, patch: Partial<CreationAttributes<Plan>>, tx: Transaction): Promise<void> {
    await Plan.update({ ...patch, updatedAt: new Date() }, { where: { id }, transaction: tx });
  }
  async remove(id: string, tx: Transaction): Promise<void> {
    await Plan.destroy({ where: { id }, transaction: tx });
  }

  async links(planIds: string[], tx?: Transaction): Promise<{ routers: Map<string, string[]>; pools: Map<string, string[]> }> {
    const routers = new Map<string, string[]>();
    const pools = new Map<string, string[]>();
    if (planIds.length > 0) {
      for (const r of await PlanRouter.findAll({ where: { planId: planIds }, transaction: tx })) {
        routers.set(String(r.planId), [...(routers.get(String(r.planId)) ?? []), String(r.routerId)]);
      }
      for (const p of await PlanPool.findAll({ where: { planId: planIds }, transaction: tx })) {
        pools.set(String(p.planId), [...(pools.get(String(p.planId)) ?? []), String(p.poolId)]);
      }
    }
    return { routers, pools };
  }
  async setRouters(planId: string, routerIds: string[], tx: Transaction): Promise<void> {
    await PlanRouter.destroy({ where: { planId }, transaction: tx });
    if (routerIds.length > 0)
      await PlanRouter.bulkCreate(
        routerIds.map((routerId) => ({ planId, routerId })),
        { transaction: tx },
      );
  }
  async setPools(planId: string, poolIds: string[], tx: Transaction): Promise<void> {
    await PlanPool.destroy({ where: { planId }, transaction: tx });
    if (poolIds.length > 0)
      await PlanPool.bulkCreate(
        poolIds.map((poolId) => ({ planId, poolId })),
        { transaction: tx },
      );
  }
  async customerCounts(planIds: string[], tx?: Transaction): Promise<Map<string, number>> {
    if (planIds.length === 0) return new Map();
    const rows = await this.db.rows<{ plan_id: string; n: string }>(
      'SELECT plan_id, count(*) AS n FROM customers WHERE plan_id = ANY($1::bigint[]) GROUP BY plan_id',
      [planIds],
      tx,
    );
    return new Map(rows.map((r) => [String(r.plan_id), Number(r.n)]));
  }
  async hasCustomers(planId: string, tx: Transaction): Promise<boolean> {
    return (await this.db.rows('SELECT 1 FROM customers WHERE plan_id = $1 LIMIT 1', [planId], tx)).length > 0;
  }
  /** Whether vouchers were printed for the plan or the captive portal sold it: their records keep it. */
  async hasHotspotSales(planId: string, tx: Transaction): Promise<boolean> {
    const rows = await this.db.rows(
      'SELECT 1 WHERE EXISTS (SELECT 1 FROM voucher_batches WHERE plan_id = $1) OR EXISTS (SELECT 1 FROM portal_purchases WHERE plan_id = $1)',
      [planId],
      tx,
    );
    return rows.length > 0;
  }
  /** The gateway of the plan's pool on a router: a PPPoE profile's local-address. */
  async gatewayOn(planId: string, routerId: string): Promise<string | null> {
    const rows = await this.db.rows<{ gateway: string }>(
      'SELECT host(p.gateway) AS gateway FROM plan_pools pp JOIN pools p ON p.id = pp.pool_id WHERE pp.plan_id = $1 AND p.router_id = $2 AND p.gateway IS NOT NULL ORDER BY p.id LIMIT 1',
      [planId, routerId],
    );
    return rows[0]?.gateway ?? null;
  }
}
