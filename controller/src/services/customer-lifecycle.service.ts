import type { CreationAttributes, Transaction } from 'sequelize';
import type { CustomerView } from '@mtandao/protocol/api';
import type { ValidityUnit } from '@mtandao/protocol';
import { AppError, notFound } from '../errors.ts';
import type { RequestMeta } from '../http/route.ts';
import { formatAmount } from '../domain/money.ts';
import type { Database } from '../db/database.ts';
import type { Customer, Plan } from '../db/models/index.ts';
import { activation, extension, proRataChange } from '../domain/billing.ts';
import type { CustomersRepository } from '../repositories/customers.repository.ts';
import type { LedgerRepository } from '../repositories/ledger.repository.ts';
import type { PlansRepository } from '../repositories/plans.repository.ts';
import type { PoolsRepository } from '../repositories/pools.repository.ts';
import type { AuditService } from './audit.service.ts';
import { accountState, planTerms } from './billing.service.ts';
import { Problems, validateAddress, validatePlan } from './customer-checks.ts';
import type { CustomerJobs } from './customer-jobs.ts';
import type { JobIntent, ProvisioningService } from './provisioning.service.ts';
import type { SettingsService } from './settings.service.ts';

/** What the lifecycle works with. */
export interface LifecycleDeps {
  db: Database;
  customers: CustomersRepository;
  plans: PlansRepository;
  pools: PoolsRepository;
  ledger: LedgerRepository;
  settings: SettingsService;
  audit: AuditService;
  provisioning: ProvisioningService;
  jobs: CustomerJobs;
  customerView: (id: string) => Promise<CustomerView>;
}

type Change = {
  patch?: Partial<CreationAttributes<Customer>>;
  details?: Record<string, unknown>;
  jobs?: 'apply' | 'none' | JobIntent[];
  applyAfter?: { planId?: string; networkId?: string | null };
};

/** Activate, suspend, unsuspend, disconnect, extend, change plan, and expiry: the customer's status over time. */
export class CustomerLifecycleService {
  constructor(private readonly d: LifecycleDeps) {}

  /** Locks the customer, applies a change, queues what routers need, audits: one transaction. */
  private async transition(
    meta: RequestMeta,
    id: string,
    action: string,
    fn: (c: Customer, plan: Plan, tx: Transaction) => Promise<Change>,
  ): Promise<CustomerView> {
    await this.d.db.transaction(async (tx) => {
      const c = await this.d.customers.findById(id, tx, true);
      if (!c) throw notFound('Customer');
      const plan = (await this.d.plans.findById(String(c.planId), tx))!;
      const out = await fn(c, plan, tx);
      if (out.patch && Object.keys(out.patch).length > 0) await this.d.customers.update(id, out.patch, tx);
      if (out.jobs === 'apply') await this.d.jobs.apply(tx, meta.actor.userId, c, action.replace('customer.', 'customer '), out.applyAfter);
      else if (Array.isArray(out.jobs)) await this.d.provisioning.enqueue(tx, out.jobs, meta.actor.userId);
      await this.d.audit.record(meta, action, 'customer', id, out.details ?? {}, tx);
    });
    return this.d.customerView(id);
  }

  /**
   * Activate charges the period when it starts. Without cover the balance goes negative (debt):
   * an admin may; staff must ask for it with `onCredit` (audited as such).
   */
  activate(meta: RequestMeta, id: string, input: { onCredit?: boolean | undefined } = {}): Promise<CustomerView> {
    return this.transition(meta, id, 'customer.activate', async (c, plan, tx) => {
      const now = new Date();
      const out = activation(accountState(c), planTerms(plan), now, { admin: meta.actor.role === 'admin', onCredit: input.onCredit === true });
      if (!out.ok) {
        if (out.reason === 'already-active') throw new AppError(409, 'Customer is already active');
        if (out.reason === 'suspended') throw new AppError(409, 'Customer is suspended: unsuspend instead');
        throw new AppError(409, 'The balance does not cover the plan price: record a payment, or activate on credit');
      }
      if (out.charge) {
        const note = out.onCredit ? 'period charged at activation, on credit' : 'period charged at activation';
        await this.d.ledger.append(
          id,
          [
            {
              side: 'charge',
              kind: 'plan',
              amountMinor: out.charge.amountMinor,
              planId: out.charge.planId,
              periodStart: out.charge.periodStart,
              periodEnd: out.charge.periodEnd,
              note,
            },
          ],
          meta.actor.userId,
          tx,
        );
      }
      return {
        patch: { status: 'active', expiresAt: out.expiresAt, activatedAt: c.activatedAt ?? now },
        details: {
          expiresAt: out.expiresAt.toISOString(),
          charged: out.charge ? formatAmount(out.charge.amountMinor) : null,
          onCredit: out.onCredit,
          balance: formatAmount(out.balanceAfterMinor),
        },
        jobs: 'apply',
      };
    });
  }

  suspend(meta: RequestMeta, id: string): Promise<CustomerView> {
    return this.transition(meta, id, 'customer.suspend', async (c) => {
      if (c.status !== 'active') throw new AppError(409, `Only active customers can be suspended (this one is ${c.status})`);
      return { patch: { status: 'suspended' }, jobs: 'apply' };
    });
  }

  unsuspend(meta: RequestMeta, id: string): Promise<CustomerView> {
    return this.transition(meta, id, 'customer.unsuspend', async (c) => {
      if (c.status !== 'suspended') throw new AppError(409, `Only suspended customers can be unsuspended (this one is ${c.status})`);
      const status = c.expiresAt && c.expiresAt <= new Date() ? 'expired' : 'active';
      return { patch: { status }, details: { status }, jobs: 'apply' };
    });
  }

  disconnect(meta: RequestMeta, id: string): Promise<CustomerView> {
    return this.transition(meta, id, 'customer.disconnect', async (c, _plan, tx) => {
      if (c.status !== 'active') throw new AppError(409, `Only active customers can be disconnected (this one is ${c.status})`);
      const routers = await this.d.customers.routersFor({ networkId: c.networkId, planId: String(c.planId) }, tx);
      const ref = { customerId: id, connectionType: c.connectionType, username: c.username, ...(c.ipAddress ? { ipAddress: c.ipAddress } : {}) };
      return {
        jobs: routers.map((routerId) => ({
          routerId,
          type: 'customer.disconnect',
          customerId: id,
          reason: 'disconnected by staff',
          payload: { customer: ref },
        })),
      };
    });
  }

  /** Extend Expiry (admin only at the route): time without a charge, audited with its reason. */
  extend(meta: RequestMeta, id: string, input: { count: number; unit: ValidityUnit; reason: string }): Promise<CustomerView> {
    return this.transition(meta, id, 'customer.extend', async (c) => {
      const out = extension(c, input.count, input.unit, new Date());
      if (!out.ok) throw new AppError(409, `Only active or expired customers can be extended (this one is ${c.status})`);
      return {
        patch: { expiresAt: out.expiresAt, status: out.status },
        details: { ...input, from: c.expiresAt?.toISOString() ?? null, expiresAt: out.expiresAt.toISOString() },
        jobs: c.status === 'expired' ? 'apply' : 'none',
      };
    });
  }

  /**
   * Change Plan: from the next renewal (the default setting) records the plan to renew onto; "now"
   * switches at once and charges the new price pro rata for the time left minus the unused part of
   * the old one (a credit when the new plan is cheaper). A move that needs a new network or IP is
   * made now.
   */
  changePlan(
    meta: RequestMeta,
    id: string,
    input: { planId: string; networkId?: string | undefined; ipAddress?: string | undefined; when?: 'now' | 'next-renewal' | undefined },
  ): Promise<CustomerView> {
    return this.transition(meta, id, 'customer.change-plan', async (c, old, tx) => {
      const problems = new Problems();
      const info = validatePlan(problems, (await this.d.plans.withLinks(input.planId, tx)) ?? null, c.connectionType);
      let address: { networkId: string; ipAddress: string } | undefined;
      if (info && c.connectionType !== 'hotspot') {
        const blocks = await this.d.pools.blocksOfPools(info.pool_ids, tx);
        const keeps = !input.networkId && !input.ipAddress && blocks.some((n) => String(n.id) === String(c.networkId));
        if (!keeps) {
          const a = validateAddress(problems, blocks, input.networkId, input.ipAddress);
          if (a) address = { networkId: String(a.block.id), ipAddress: a.ip };
        }
      }
      problems.throwIfAny(['planId', 'networkId', 'ipAddress']);
      const settings = await this.d.settings.billing();
      const when = input.when ?? settings.changePlanDefault;
      const from = String(c.planId);
      if (input.planId === from) {
        // choosing the current plan cancels a scheduled change
        return { patch: { nextPlanId: null }, details: { from, to: input.planId, when: 'cancel-scheduled' }, jobs: 'none' };
      }
      // an active customer on paid time keeps the old plan until the renewal, unless it must move now
      if (when === 'next-renewal' && !address && c.status === 'active') {
        return { patch: { nextPlanId: input.planId }, details: { from, to: input.planId, when }, jobs: 'none' };
      }
      const now = new Date();
      const patch: Partial<CreationAttributes<Customer>> = {
        planId: input.planId,
        nextPlanId: null,
        ...(address ? { networkId: address.networkId, ipAddress: address.ipAddress } : {}),
      };
      let net = 0n;
      if (c.status === 'active') {
        const newPlan = (await this.d.plans.findById(input.planId, tx))!;
        const pr = proRataChange(planTerms(old), planTerms(newPlan), c.expiresAt, now);
        net = pr.netMinor;
        const note = `plan change ${old.name} → ${newPlan.name}, pro rata`;
        if (net > 0n)
          await this.d.ledger.append(
            id,
            [{ side: 'charge', kind: 'plan', amountMinor: net, planId: input.planId, periodStart: now, periodEnd: c.expiresAt, note }],
            meta.actor.userId,
            tx,
          );
        else if (net < 0n)
          await this.d.ledger.append(id, [{ side: 'credit', kind: 'adjustment', amountMinor: -net, planId: input.planId, note }], meta.actor.userId, tx);
      }
      const details = { from, to: input.planId, when: 'now', proRata: formatAmount(net) };
      if (c.status === 'inactive') return { patch, details, jobs: 'none' };
      return { patch, details, jobs: 'apply', applyAfter: { planId: input.planId, ...(address ? { networkId: address.networkId } : {}) } };
    });
  }
}
