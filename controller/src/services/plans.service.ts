import type { CreationAttributes } from 'sequelize';
import type { CreatePlanRequest, PlanView, UpdatePlanRequest } from '@mtandao/protocol/api';
import type { Transaction } from 'sequelize';
import { AppError, conflict, invalid, notFound } from '../errors.ts';
import type { RequestMeta } from '../http/route.ts';
import { formatAmount, parseAmount } from '../domain/money.ts';
import type { PlansRepository } from '../repositories/plans.repository.ts';
import type { PoolsRepository } from '../repositories/pools.repository.ts';
import type { RoutersRepository } from '../repositories/routers.repository.ts';
import type { AuditService } from './audit.service.ts';
import type { ProvisioningService } from './provisioning.service.ts';
import type { ReconcileQueue } from '../gateway/reconcile-queue.ts';
import { foreignKeyViolation, uniqueViolation, type Database } from '../db/database.ts';
import type { Plan } from '../db/models/index.ts';

/** Whether a plan has what a customer on it needs: routers, and pools for PPPoE/Static. */
export function planIsComplete(plan: Pick<Plan, 'connectionType'>, routerIds: string[], poolIds: string[]): boolean {
  if (routerIds.length === 0) return false;
  return plan.connectionType === 'hotspot' || poolIds.length > 0;
}

/**
 * Whether an edit changes what customers' own entries hold, not only the plan's profile. (A renamed
 * profile needs nothing more: RouterOS points secrets and users at the profile, not at its name.)
 */
export function customerEntriesChange(connectionType: string, input: UpdatePlanRequest): boolean {
  if (connectionType === 'static') return input.downloadSpeed !== undefined || input.uploadSpeed !== undefined;
  if (connectionType === 'hotspot') return input.dataLimit !== undefined;
  return false;
}

/** Internet plans, the routers that carry them and the fan-out of their profiles. */
export class PlansService {
  constructor(
    private readonly db: Database,
    private readonly plans: PlansRepository,
    private readonly pools: PoolsRepository,
    private readonly routers: RoutersRepository,
    private readonly audit: AuditService,
    private readonly provisioning: ProvisioningService,
    private readonly reconciles: ReconcileQueue,
  ) {}

  private async views(plans: Plan[], tx?: Transaction): Promise<PlanView[]> {
    const ids = plans.map((p) => String(p.id));
    const [links, counts] = await Promise.all([this.plans.links(ids, tx), this.plans.customerCounts(ids, tx)]);
    return plans.map((p) => {
      const id = String(p.id);
      const routerIds = links.routers.get(id) ?? [];
      const poolIds = links.pools.get(id) ?? [];
      return {
        id,
        name: p.name,
        connectionType: p.connectionType,
        price: formatAmount(p.priceMinor),
        downloadSpeed: p.downloadSpeed,
        uploadSpeed: p.uploadSpeed,
        validity: { count: p.validityCount, unit: p.validityUnit },
        dataLimit: p.dataLimitBytes === null ? null : Number(p.dataLimitBytes),
        sharedUsers: p.sharedUsers,
        routerIds,
        poolIds,
        customerCount: counts.get(id) ?? 0,
        complete: planIsComplete(p, routerIds, poolIds),
        archived: p.archived,
        createdAt: p.createdAt.toISOString(),
      };
    });
  }

  async list(filter: { connectionType?: string | undefined }) {
    const items = await this.views(await this.plans.list(filter));
    return { items, total: items.length };
  }

  async get(id: string, tx?: Transaction): Promise<PlanView> {
    const plan = await this.plans.findById(id, tx);
    if (!plan) throw notFound('Plan');
    return (await this.views([plan], tx))[0]!;
  }

  /** Resolves routers and pools: a plan is carried by its routers and by the routers of its pools. */
  private async resolveLinks(
    connectionType: string,
    routerIds: string[],
    poolIds: string[],
    tx: Transaction,
  ): Promise<{ routerIds: string[]; poolIds: string[] }> {
    if (connectionType === 'hotspot' && poolIds.length > 0) throw invalid('poolIds', 'Hotspot plans do not use IP pools');
    const foundRouters = await this.routers.existing(routerIds, tx);
    const missingRouter = routerIds.findIndex((r) => !foundRouters.includes(r));
    if (missingRouter >= 0) throw invalid(`routerIds.${missingRouter}`, 'Router not found');
    const pools = await this.pools.existingPools(poolIds, tx);
    const missingPool = poolIds.findIndex((p) => !pools.some((x) => String(x.id) === p));
    if (missingPool >= 0) throw invalid(`poolIds.${missingPool}`, 'Pool not found');
    return { routerIds: [...new Set([...routerIds, ...pools.map((p) => String(p.routerId))])], poolIds: [...new Set(poolIds)] };
  }

  /** Queues `plan.apply` for every router that carries each plan (a plan change fans out). */
  async fanout(planIds: string[], reason: string, meta: RequestMeta | null, tx: Transaction): Promise<void> {
    const links = await this.plans.links(planIds, tx);
    const intents = planIds.flatMap((planId) => (links.routers.get(planId) ?? []).map((routerId) => ({ routerId, type: 'plan.apply', planId, reason })));
    await this.provisioning.enqueue(tx, intents, meta?.actor.userId ?? null);
  }

  async create(meta: RequestMeta, input: CreatePlanRequest): Promise<PlanView> {
    const price = parseAmount(input.price)!;
    try {
      const id = await this.db.transaction(async (tx) => {
        const links = await this.resolveLinks(input.connectionType, input.routerIds ?? [], input.poolIds ?? [], tx);
        const plan = await this.plans.create(
          {
            name: input.name,
            connectionType: input.connectionType,
            priceMinor: price.toString(),
            downloadSpeed: input.downloadSpeed,
            uploadSpeed: input.uploadSpeed,
            validityCount: input.validity.count,
            validityUnit: input.validity.unit,
            dataLimitBytes: input.dataLimit ? String(input.dataLimit) : null,
            sharedUsers: input.sharedUsers ?? null,
          },
          tx,
        );
        const planId = String(plan.id);
        await this.plans.setRouters(planId, links.routerIds, tx);
        await this.plans.setPools(planId, links.poolIds, tx);
        await this.audit.record(meta, 'plan.create', 'plan', planId, { ...input }, tx);
        await this.fanout([planId], 'plan created', meta, tx);
        return planId;
      });
      return this.get(id);
    } catch (err) {
      if (uniqueViolation(err)) throw conflict('A plan with this name already exists', 'name');
      throw err;
    }
  }

  async update(meta: RequestMeta, id: string, input: UpdatePlanRequest): Promise<PlanView> {
    try {
      await this.db.transaction(async (tx) => {
        const plan = await this.plans.findById(id, tx);
        if (!plan) throw notFound('Plan');
        const before = (await this.views([plan], tx))[0]!;
        const patch: Partial<CreationAttributes<Plan>> = {};
        if (input.name !== undefined) patch.name = input.name;
        if (input.price !== undefined) patch.priceMinor = parseAmount(input.price)!.toString();
        if (input.downloadSpeed !== undefined) patch.downloadSpeed = input.downloadSpeed;
        if (input.uploadSpeed !== undefined) patch.uploadSpeed = input.uploadSpeed;
        if (input.validity !== undefined) {
          patch.validityCount = input.validity.count;
          patch.validityUnit = input.validity.unit;
        }
        if (input.dataLimit !== undefined) patch.dataLimitBytes = input.dataLimit === null ? null : String(input.dataLimit);
        if (input.sharedUsers !== undefined) patch.sharedUsers = input.sharedUsers;
        await this.plans.update(id, patch, tx);
        let routerIds = before.routerIds;
        if (input.routerIds !== undefined || input.poolIds !== undefined) {
          const links = await this.resolveLinks(plan.connectionType, input.routerIds ?? before.routerIds, input.poolIds ?? before.poolIds, tx);
          await this.plans.setRouters(id, links.routerIds, tx);
          await this.plans.setPools(id, links.poolIds, tx);
          routerIds = links.routerIds;
          const dropped = before.routerIds.filter((r) => !routerIds.includes(r));
          await this.provisioning.enqueue(
            tx,
            dropped.map((routerId) => ({
              routerId,
              type: 'plan.remove',
              planId: id,
              reason: 'plan removed from router',
              payload: { planId: id, connectionType: plan.connectionType },
            })),
            meta.actor.userId,
          );
        }
        await this.audit.record(meta, 'plan.update', 'plan', id, { ...input }, tx);
        const profileChanged = ['name', 'downloadSpeed', 'uploadSpeed', 'dataLimit', 'sharedUsers', 'poolIds'].some(
          (k) => (input as Record<string, unknown>)[k] !== undefined,
        );
        const added = routerIds.filter((r) => !before.routerIds.includes(r));
        if (profileChanged) await this.fanout([id], 'plan changed', meta, tx);
        else if (added.length > 0)
          await this.provisioning.enqueue(
            tx,
            added.map((routerId) => ({ routerId, type: 'plan.apply', planId: id, reason: 'plan added to router' })),
            meta.actor.userId,
          );
        // Customer entries carry some plan fields themselves (a queue's max-limit, a hotspot user's
        // limit): the profile alone does not bring them along.
        if (customerEntriesChange(plan.connectionType, input) && (await this.plans.hasCustomers(id, tx))) {
          await this.reconciles.queue(routerIds, 'plan changed: entries of its customers', {}, tx, meta.actor.userId);
        }
      });
      return this.get(id);
    } catch (err) {
      if (uniqueViolation(err)) throw conflict('A plan with this name already exists', 'name');
      throw err;
    }
  }

  async remove(meta: RequestMeta, id: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const plan = await this.plans.findById(id, tx);
      if (!plan) throw notFound('Plan');
      if (await this.plans.hasCustomers(id, tx))
        throw new AppError(409, 'This plan has customers: move them to another plan first, or archive it to hide it from new customers');
      if (await this.plans.hasHotspotSales(id, tx))
        throw new AppError(409, 'This plan has vouchers or captive-portal sales on record: archive it to stop selling it');
      const links = await this.plans.links([id], tx);
      await this.provisioning.enqueue(
        tx,
        (links.routers.get(id) ?? []).map((routerId) => ({
          routerId,
          type: 'plan.remove',
          reason: 'plan deleted',
          payload: { planId: id, connectionType: plan.connectionType },
        })),
        meta.actor.userId,
      );
      try {
        await this.plans.remove(id, tx);
      } catch (err) {
        // anything else that still points at the plan (written after the checks above) keeps it
        if (foreignKeyViolation(err)) throw new AppError(409, 'This plan is still in use: archive it to hide it from new customers');
        throw err;
      }
      await this.audit.record(meta, 'plan.delete', 'plan', id, { name: plan.name }, tx);
    });
  }

  /** Archived plans are hidden from new customers and kept for existing ones (nothing changes on routers). */
  async setArchived(meta: RequestMeta, id: string, archived: boolean): Promise<PlanView> {
    await this.db.transaction(async (tx) => {
      const plan = await this.plans.findById(id, tx);
      if (!plan) throw notFound('Plan');
      await this.plans.update(id, { archived }, tx);
      await this.audit.record(meta, archived ? 'plan.archive' : 'plan.unarchive', 'plan', id, { name: plan.name }, tx);
    });
    return this.get(id);
  }
}
