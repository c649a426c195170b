import { CustomerRef, CustomerSpec, FRESH_APPLY_CAPABILITY, PlanSpec, RouterAdoptMarkPayload, type CommandType } from '@mtandao/protocol';
import type { ClaimedJob } from '../repositories/outbox.repository.ts';
import type { CustomersRepository, DesiredCustomerRow } from '../repositories/customers.repository.ts';
import type { PlansRepository } from '../repositories/plans.repository.ts';
import type { Transaction } from 'sequelize';
import type { Customer, Plan } from '../db/models/index.ts';

/** Customers per reconcile chunk: keeps frames well under the agent's maxPayload. */
export const RECONCILE_CHUNK = 1000;

/** One command ready to seal. */
export interface BuiltCommand {
  type: CommandType;
  payload: unknown;
}

/** A customer's own fields, checked without its plan (the plan is checked once per batch and shared). */
const CustomerFields = CustomerSpec.omit({ plan: true });

/** What to do with a claimed job. */
export type BuildOutcome = { commands: BuiltCommand[] } | { skip: string } | { fail: string };

/**
 * Turns outbox rows (what must change, on which router) into desired-state payloads, reading the
 * current state at delivery time: a job delivered late carries the latest truth, and no customer
 * password is ever stored in the outbox.
 */
export class DesiredStateBuilder {
  /** Builds `vouchers.apply` jobs (set by the vouchers service: their rows live in its repository). */
  vouchers?: (job: ClaimedJob, router: string, plan: PlanSpec) => Promise<BuildOutcome>;

  constructor(
    private readonly customers: CustomersRepository,
    private readonly plans: PlansRepository,
    private readonly decryptPassword: (c: Customer) => string,
  ) {}

  async planSpec(plan: Plan, routerId: string, gateways: Map<string, string | null>): Promise<PlanSpec> {
    const key = `${plan.id}:${routerId}`;
    if (!gateways.has(key)) gateways.set(key, plan.connectionType === 'pppoe' ? await this.plans.gatewayOn(String(plan.id), routerId) : null);
    const gw = gateways.get(key);
    return PlanSpec.parse({
      planId: String(plan.id),
      name: plan.name,
      connectionType: plan.connectionType,
      uploadSpeed: plan.uploadSpeed,
      downloadSpeed: plan.downloadSpeed,
      ...(gw ? { localAddress: gw } : {}),
      ...(plan.connectionType === 'hotspot' && plan.sharedUsers ? { sharedUsers: plan.sharedUsers } : {}),
      ...(plan.connectionType === 'hotspot' && plan.dataLimitBytes ? { dataLimitBytes: Number(plan.dataLimitBytes) } : {}),
    });
  }

  customerSpec(c: Customer, plan: PlanSpec): CustomerSpec {
    return CustomerSpec.parse({
      customerId: String(c.id),
      connectionType: c.connectionType,
      username: c.username,
      password: this.decryptPassword(c),
      status: c.status,
      ...(c.ipAddress ? { ipAddress: c.ipAddress } : {}),
      plan,
    });
  }

  /** The plan part of a customer row. */
  private planOfRow(r: DesiredCustomerRow): PlanSpec {
    return PlanSpec.parse({
      planId: r.plan_id,
      name: r.plan_name,
      connectionType: r.plan_type,
      uploadSpeed: r.upload_speed,
      downloadSpeed: r.download_speed,
      ...(r.plan_type === 'pppoe' && r.gateway ? { localAddress: r.gateway } : {}),
      ...(r.plan_type === 'hotspot' && r.shared_users ? { sharedUsers: r.shared_users } : {}),
      ...(r.plan_type === 'hotspot' && r.data_limit_bytes ? { dataLimitBytes: Number(r.data_limit_bytes) } : {}),
    });
  }

  /**
   * Builds the commands of a batch of jobs, loading what they share once. `capability` is the
   * receiving agent's: a customer's first job is marked `fresh` (added in one round trip) only for
   * agents that know the field.
   */
  async build(jobs: ClaimedJob[], routerNames: Map<string, string>, capability = 1): Promise<Map<string, BuildOutcome>> {
    const freshOk = capability >= FRESH_APPLY_CAPABILITY;
    const out = new Map<string, BuildOutcome>();
    // customer.apply, the bulk of the traffic: one query for the whole batch
    const applies = jobs.filter((j) => j.type === 'customer.apply' && j.customer_id);
    if (applies.length > 0) {
      // the claim read them already; redeliveries (and older callers) read them here
      const missing = applies.filter((j) => j.desired === undefined);
      const rows =
        missing.length > 0
          ? await this.customers.desiredRows(
              missing.map((j) => String(j.customer_id)),
              missing.map((j) => String(j.router_id)),
            )
          : [];
      for (const j of applies) if (j.desired) rows.push(j.desired);
      const byKey = new Map(rows.map((r) => [`${r.customer_id}:${r.router_id}`, r]));
      // jobs of one batch share few plans: each plan (as it lands on its router) is checked once
      const plans = new Map<string, PlanSpec>();
      const planOf = (r: DesiredCustomerRow): PlanSpec => {
        const key = `${r.plan_id}\u0000${r.router_id}\u0000${r.plan_name}\u0000${r.plan_type}\u0000${r.upload_speed}\u0000${r.download_speed}\u0000${r.gateway}\u0000${r.shared_users}\u0000${r.data_limit_bytes}`;
        let plan = plans.get(key);
        if (!plan) plans.set(key, (plan = this.planOfRow(r)));
        return plan;
      };
      for (const job of applies) {
        const router = routerNames.get(String(job.router_id));
        const r = byKey.get(`${job.customer_id}:${job.router_id}`);
        if (!router) out.set(String(job.id), { fail: 'the router no longer exists' });
        else if (!r) out.set(String(job.id), { skip: 'the customer no longer exists (its removal is a job of its own)' });
        else {
          try {
            const customer: CustomerSpec = {
              ...CustomerFields.parse({
                customerId: r.id,
                connectionType: r.connection_type,
                username: r.username,
                password: this.decryptPassword({ id: r.id, passwordEnc: r.password_enc } as Customer),
                status: r.status,
                ...(r.ip_address ? { ipAddress: r.ip_address } : {}),
              }),
              plan: planOf(r),
            };
            const fresh = freshOk && job.payload?.fresh === true ? { fresh: true } : {};
            out.set(String(job.id), { commands: [{ type: 'customer.apply', payload: { router, customer, ...fresh } }] });
          } catch (err) {
            out.set(String(job.id), { fail: `could not build the command: ${(err as Error).message}` });
          }
        }
      }
    }
    jobs = jobs.filter((j) => !out.has(String(j.id)));
    if (jobs.length === 0) return out;
    const customerIds = [...new Set(jobs.filter((j) => j.type === 'customer.apply' && j.customer_id).map((j) => String(j.customer_id)))];
    const customers = new Map((await this.customers.findByIds(customerIds)).map((c) => [String(c.id), c]));
    const planIds = [
      ...new Set([
        ...jobs
          .map((j) => j.plan_id)
          .filter((p): p is string => !!p)
          .map(String),
        ...[...customers.values()].map((c) => String(c.planId)),
      ]),
    ];
    const plans = new Map((await this.plans.findByIds(planIds)).map((p) => [String(p.id), p]));
    const gateways = new Map<string, string | null>();
    for (const job of jobs) {
      const router = routerNames.get(String(job.router_id));
      if (!router) {
        out.set(String(job.id), { fail: 'the router no longer exists' });
        continue;
      }
      try {
        out.set(String(job.id), await this.buildOne(job, router, customers, plans, gateways));
      } catch (err) {
        out.set(String(job.id), { fail: `could not build the command: ${(err as Error).message}` });
      }
    }
    return out;
  }

  private async buildOne(
    job: ClaimedJob,
    router: string,
    customers: Map<string, Customer>,
    plans: Map<string, Plan>,
    gateways: Map<string, string | null>,
  ): Promise<BuildOutcome> {
    const routerId = String(job.router_id);
    switch (job.type) {
      case 'customer.apply': {
        const c = job.customer_id ? customers.get(String(job.customer_id)) : undefined;
        if (!c) return { skip: 'the customer no longer exists (its removal is a job of its own)' };
        const plan = plans.get(String(c.planId));
        if (!plan) return { fail: "the customer's plan no longer exists" };
        return { commands: [{ type: 'customer.apply', payload: { router, customer: this.customerSpec(c, await this.planSpec(plan, routerId, gateways)) } }] };
      }
      case 'customer.remove':
      case 'customer.disconnect':
        return { commands: [{ type: job.type, payload: { router, customer: CustomerRef.parse(job.payload.customer) } }] };
      case 'plan.apply': {
        const plan = job.plan_id ? plans.get(String(job.plan_id)) : undefined;
        if (!plan) return { skip: 'the plan no longer exists' };
        return { commands: [{ type: 'plan.apply', payload: { router, plan: await this.planSpec(plan, routerId, gateways) } }] };
      }
      case 'plan.remove':
        return { commands: [{ type: 'plan.remove', payload: { router, planId: String(job.payload.planId), connectionType: job.payload.connectionType } }] };
      case 'router.readback':
        return {
          commands: [{ type: 'router.readback', payload: { router, offset: Number(job.payload.offset ?? 0), limit: Number(job.payload.limit ?? 200) } }],
        };
      case 'router.reconcile':
        return { commands: await this.reconcileChunks(job, router, routerId, plans, gateways) };
      case 'router.adoption-scan':
        return {
          commands: [{ type: 'router.adoption-scan', payload: { router, offset: Number(job.payload.offset ?? 0), limit: Number(job.payload.limit ?? 300) } }],
        };
      case 'router.adopt-mark':
        return { commands: [{ type: 'router.adopt-mark', payload: { router, marks: RouterAdoptMarkPayload.shape.marks.parse(job.payload.marks) } }] };
      case 'vouchers.apply': {
        const plan = job.plan_id ? plans.get(String(job.plan_id)) : undefined;
        if (!plan) return { skip: 'the plan no longer exists' };
        if (!this.vouchers) return { fail: 'vouchers are not set up on this controller' };
        return this.vouchers(job, router, await this.planSpec(plan, routerId, gateways));
      }
      case 'hotspot.setup':
        return { commands: [{ type: 'hotspot.setup', payload: { router, portalHosts: job.payload.portalHosts } }] };
      case 'hotspot.read':
        return { commands: [{ type: 'hotspot.read', payload: { router } }] };
      default:
        return { fail: `unknown job type ${job.type}` };
    }
  }

  /** The whole desired state of a router, in chunks of RECONCILE_CHUNK customers. */
  private async reconcileChunks(
    job: ClaimedJob,
    router: string,
    routerId: string,
    plans: Map<string, Plan>,
    gateways: Map<string, string | null>,
  ): Promise<BuiltCommand[]> {
    const { customers, planIds } = await this.routerState(routerId);
    for (const p of await this.plans.findByIds(planIds.filter((id) => !plans.has(id)))) plans.set(String(p.id), p);
    const planSpecs = new Map<string, PlanSpec>();
    for (const id of planIds) {
      const plan = plans.get(id);
      if (plan) planSpecs.set(id, await this.planSpec(plan, routerId, gateways));
    }
    const specs = customers.filter((c) => planSpecs.has(String(c.planId))).map((c) => this.customerSpec(c, planSpecs.get(String(c.planId))!));
    // the seqs were reserved at claim time from the job's chunk count: spread the customers over them
    const count = reconcileChunks(job.payload);
    const size = Math.max(1, Math.ceil(specs.length / count));
    if (size > MAX_CHUNK)
      throw new Error(`the router grew past what this reconcile reserved (${specs.length} customers in ${count} chunks); it is queued again`);
    return Array.from({ length: count }, (_, index) => ({
      type: 'router.reconcile' as const,
      payload: {
        router,
        reconcileId: `job-${job.id}-${job.attempts}`,
        chunk: { index, count },
        plans: index === 0 ? [...planSpecs.values()] : [],
        customers: specs.slice(index * size, (index + 1) * size),
      },
    }));
  }

  /** Customers that belong on a router (every status but inactive) and the plans it carries. */
  async routerState(routerId: string): Promise<{ customers: Customer[]; planIds: string[] }> {
    const [ids, planIds] = await Promise.all([this.customers.idsOnRouter(routerId), this.plans.idsOnRouter(routerId)]);
    return { customers: await this.customers.findByIds(ids), planIds };
  }

  /** Chunks to reserve for a reconcile of a router (with headroom for customers added meanwhile). */
  async chunksFor(routerId: string, tx?: Transaction): Promise<number> {
    return Math.ceil((await this.customers.countOnRouter(routerId, tx)) / RECONCILE_CHUNK) + 1;
  }
}

/** The most customers one chunk may carry (the payload schema's limit). */
const MAX_CHUNK = 2000;

/** Envelopes a job needs: one, or one per reserved reconcile chunk. */
export function reconcileChunks(payload: Record<string, unknown>): number {
  const n = Number(payload.chunks);
  return Number.isInteger(n) && n > 0 ? n : 1;
}
