import type { CreateVoucherBatchRequest, VoucherBatchView, VoucherSettings, VoucherView } from '@mtandao/protocol/api';
import type { SettingsRepository } from '../repositories/settings.repository.ts';
import type { PlanSpec } from '@mtandao/protocol';
import type { Transaction } from 'sequelize';
import type { Database } from '../db/database.ts';
import { codeSpace, tooDense, voucherCode, VOUCHER_ALPHABETS, type VoucherCharset } from '../domain/vouchers.ts';
import { formatAmount } from '../domain/money.ts';
import { AppError, invalid, notFound } from '../errors.ts';
import type { BuildOutcome } from '../gateway/desired-state.ts';
import type { RequestMeta } from '../http/route.ts';
import type { ClaimedJob } from '../repositories/outbox.repository.ts';
import type { PlansRepository } from '../repositories/plans.repository.ts';
import type { BatchRow, VoucherRow, VouchersRepository } from '../repositories/vouchers.repository.ts';
import type { AuditService } from './audit.service.ts';
import type { ProvisioningService } from './provisioning.service.ts';

/** Vouchers per `vouchers.apply` job: one command, well under the frame limit. */
export const VOUCHERS_PER_JOB = 1000;

const iso = (d: Date | string | null): string | null => (d ? new Date(d).toISOString() : null);

/** Seconds of a plan's validity, as the voucher user's `limit-uptime` (a month counts 30 days). */
export function validitySeconds(count: number, unit: string): number {
  const per = { minutes: 60, hours: 3600, days: 86_400, months: 30 * 86_400 }[unit] ?? 86_400;
  return Math.min(count * per, 2 ** 31);
}

export function voucherView(r: VoucherRow): VoucherView {
  return {
    id: String(r.id),
    batchId: String(r.batch_id),
    planId: String(r.plan_id),
    planName: r.plan_name,
    code: r.code,
    status: r.status,
    firstLoginAt: iso(r.first_login_at),
    expiresAt: iso(r.expires_at),
    uptimeSeconds: Number(r.uptime_seconds),
    bytesIn: Number(r.bytes_in),
    bytesOut: Number(r.bytes_out),
    revokedAt: iso(r.revoked_at),
    createdAt: iso(r.created_at)!,
  };
}

export function batchView(b: BatchRow & { unused?: string; active?: string }): VoucherBatchView {
  return {
    id: String(b.id),
    planId: String(b.plan_id),
    planName: b.plan_name,
    price: formatAmount(b.price_minor),
    count: b.count,
    prefix: b.prefix,
    length: b.length,
    charset: b.charset,
    validityFrom: b.validity_from,
    ...(b.unused !== undefined ? { unused: Number(b.unused) } : {}),
    ...(b.active !== undefined ? { active: Number(b.active) } : {}),
    createdBy: b.created_by_name,
    createdAt: iso(b.created_at)!,
  };
}

/** The shortest length that keeps a batch of `count` sparse enough in an alphabet. */
const safeLength = (count: number, charset: VoucherCharset): number => {
  for (let n = 4; n <= 16; n++) if (!tooDense(count, n, charset)) return n;
  return 16;
};

/** Voucher batches: codes from the CSPRNG, stored, and sent to the plan's routers in chunks. */
export class VouchersService {
  constructor(
    private readonly db: Database,
    private readonly repo: VouchersRepository,
    private readonly plans: PlansRepository,
    private readonly provisioning: ProvisioningService,
    private readonly audit: AuditService,
    /** The portal's host, kept in each router's walled garden so devices reach it before login. */
    private readonly portalHost: () => string,
    private readonly settingsRepo: SettingsRepository,
  ) {}

  /** Where a batch's time runs from when the batch does not say: the first login unless set. */
  async settings(): Promise<VoucherSettings> {
    return { validityFrom: (await this.settingsRepo.all()).get('vouchers.validityFrom') === 'sale' ? 'sale' : 'first-login' };
  }

  async updateSettings(meta: RequestMeta, input: VoucherSettings): Promise<VoucherSettings> {
    await this.db.transaction(async (tx) => {
      await this.settingsRepo.set('vouchers.validityFrom', input.validityFrom, meta.actor.userId, tx);
      await this.audit.record(meta, 'settings.vouchers', 'settings', 'vouchers', { ...input }, tx);
    });
    return this.settings();
  }

  async createBatch(meta: RequestMeta, input: CreateVoucherBatchRequest): Promise<VoucherBatchView & { jobs: number }> {
    const plan = await this.plans.findById(input.planId);
    if (!plan) throw invalid('planId', 'Plan not found');
    if (plan.connectionType !== 'hotspot') throw invalid('planId', 'Vouchers are for hotspot plans only');
    const charset = input.charset ?? 'mixed';
    const length = input.length ?? 8;
    if (tooDense(input.count, length, charset)) {
      const space = codeSpace(length, charset).toLocaleString('en-GB');
      throw invalid(
        'length',
        `${length} ${charset === 'digits' ? 'digits' : 'characters'} make only ${space} codes: for ${input.count} vouchers use a length of at least ${safeLength(input.count, charset)}`,
      );
    }
    const routers = await this.repo.routersOfPlan(input.planId);
    if (routers.length === 0) throw invalid('planId', 'This plan is on no router yet: add a router to the plan first');
    const prefix = input.prefix ?? '';
    const validityFrom = input.validityFrom ?? (await this.settings()).validityFrom;
    const result = await this.db.transaction(async (tx) => {
      const batchId = await this.repo.createBatch(
        { planId: input.planId, count: input.count, prefix, length, charset, validityFrom, createdBy: meta.actor.userId },
        tx,
      );
      let made = 0;
      // a collision with an existing code (rare) is simply drawn again
      for (let round = 0; made < input.count; round++) {
        if (round > 20) throw new AppError(409, 'Could not find enough free codes; use a longer length', { field: 'length' });
        const codes = new Set<string>();
        while (codes.size < input.count - made) codes.add(voucherCode(prefix, length, charset));
        made += (await this.repo.insertCodes(batchId, input.planId, [...codes], tx)).length;
      }
      if (validityFrom === 'sale') await this.repo.startValidity(batchId, tx);
      const ids = await this.repo.idsOfBatch(batchId, tx);
      const jobs = await this.enqueue(tx, input.planId, routers, ids, `voucher batch ${batchId}`, meta.actor.userId);
      await this.provisioning.enqueue(
        tx,
        routers.map((routerId) => ({
          routerId,
          type: 'hotspot.setup',
          reason: 'portal host in the walled garden',
          payload: { portalHosts: [this.portalHost()] },
        })),
        meta.actor.userId,
      );
      await this.audit.record(meta, 'voucher.batch', 'voucher_batch', batchId, { planId: input.planId, count: input.count, prefix, length, charset }, tx);
      return { batchId, jobs };
    });
    return { ...batchView((await this.repo.batch(result.batchId))!), jobs: result.jobs };
  }

  /** Writes `vouchers.apply` jobs for these vouchers on every router, VOUCHERS_PER_JOB at a time. */
  async enqueue(tx: Transaction, planId: string, routers: string[], voucherIds: string[], reason: string, createdBy: string | null): Promise<number> {
    const intents = [];
    for (const routerId of routers) {
      for (let i = 0; i < voucherIds.length; i += VOUCHERS_PER_JOB) {
        intents.push({ routerId, type: 'vouchers.apply', reason, planId, payload: { voucherIds: voucherIds.slice(i, i + VOUCHERS_PER_JOB) } });
      }
    }
    await this.provisioning.enqueue(tx, intents, createdBy);
    return intents.length;
  }

  async list(q: { batchId?: string | undefined; status?: string | undefined; search?: string | undefined; page: number; pageSize: number }) {
    const { rows, total } = await this.repo.list(q, q.pageSize, (q.page - 1) * q.pageSize);
    return { items: rows.map(voucherView), total };
  }

  async batches(q: { page: number; pageSize: number }) {
    const { rows, total } = await this.repo.batches(q.pageSize, (q.page - 1) * q.pageSize);
    return { items: rows.map(batchView), total };
  }

  async batch(id: string): Promise<VoucherBatchView> {
    const b = await this.repo.batch(id);
    if (!b) throw notFound('Voucher batch');
    return batchView(b);
  }

  async get(id: string): Promise<VoucherView> {
    const v = await this.repo.get(id);
    if (!v) throw notFound('Voucher');
    return voucherView(v);
  }

  /** Revokes an unused or active voucher: its user comes off the routers and its session is dropped. */
  async revoke(meta: RequestMeta, id: string): Promise<VoucherView> {
    await this.db.transaction(async (tx) => {
      const v = await this.repo.get(id, tx, true);
      if (!v) throw notFound('Voucher');
      if (v.status === 'revoked') return;
      if (v.status === 'expired') throw new AppError(409, 'This voucher has expired already', { field: 'status' });
      await this.repo.revoke(id, tx);
      await this.enqueue(
        tx,
        String(v.plan_id),
        await this.repo.routersOfPlan(String(v.plan_id), tx),
        [id],
        `voucher ${v.code.slice(0, 2)}… revoked`,
        meta.actor.userId,
      );
      await this.audit.record(meta, 'voucher.revoke', 'voucher', id, {}, tx);
    });
    return this.get(id);
  }

  /** Sends a router its live vouchers again (they are re-applied idempotently: only missing ones are written). */
  async resend(routerId: string, live: { planId: string; ids: string[] }[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      for (const p of live) await this.enqueue(tx, p.planId, [routerId], p.ids, 'the router lost voucher users', null);
    });
  }

  /** Marks used-up and timed-out vouchers expired and queues their removal from the routers. */
  async sweep(): Promise<number> {
    return this.db.transaction(async (tx) => {
      const expired = await this.repo.expireDue(tx);
      const byPlan = new Map<string, string[]>();
      for (const v of expired) byPlan.set(String(v.plan_id), [...(byPlan.get(String(v.plan_id)) ?? []), String(v.id)]);
      for (const [planId, ids] of byPlan) await this.enqueue(tx, planId, await this.repo.routersOfPlan(planId, tx), ids, 'vouchers expired or used up', null);
      return expired.length;
    });
  }

  /** The `vouchers.apply` command of a job: live vouchers added, expired and revoked ones removed. */
  async build(job: ClaimedJob, router: string, plan: PlanSpec): Promise<BuildOutcome> {
    const ids = Array.isArray(job.payload.voucherIds) ? (job.payload.voucherIds as unknown[]).map(String) : [];
    const rows = await this.repo.byIds(ids);
    if (rows.length === 0) return { skip: 'the vouchers no longer exist' };
    const live = rows.filter((r) => r.status === 'unused' || r.status === 'active');
    const gone = rows.filter((r) => r.status === 'expired' || r.status === 'revoked');
    const add = live.map((r) => VoucherUserOf(r));
    const remove = gone.map((r) => ({ voucherId: String(r.id), code: r.code }));
    return { commands: [{ type: 'vouchers.apply', payload: { router, plan, add, remove } }] };
  }
}

function VoucherUserOf(r: VoucherRow & { validity_count: number; validity_unit: string }) {
  return { voucherId: String(r.id), code: r.code, limitUptimeSeconds: validitySeconds(r.validity_count, r.validity_unit) };
}

/** The alphabets, for the README's arithmetic and the dashboard's hint. */
export const ALPHABET_SIZES = Object.fromEntries(Object.entries(VOUCHER_ALPHABETS).map(([k, v]) => [k, v.length]));
