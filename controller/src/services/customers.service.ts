import type { CreationAttributes } from 'sequelize';
import { randomInt } from 'node:crypto';
import {
  INVALID_PHONE_MESSAGE,
  IP_NOT_AVAILABLE_MESSAGE,
  IP_REQUIRED_MESSAGE,
  PLAN_REQUIRED_MESSAGE,
  USERNAME_EXISTS_MESSAGE,
  type CreateCustomerInput,
  type CustomerView,
  type PaymentView,
} from '@mtandao/protocol/api';
import type { ConnectionType, PaymentKind, PaymentMethod, ValidityUnit } from '@mtandao/protocol';
import type { Transaction } from 'sequelize';
import { AppError, notFound, type FieldIssue } from '../errors.ts';
import type { RequestMeta } from '../http/route.ts';
import { formatAmount, parseAmount } from '../lib/money.ts';
import { normaliseKenyanMobile } from '../lib/phone.ts';
import { readablePassword, type SecretBox } from '../lib/secrets.ts';
import { addValidity } from '../lib/validity.ts';
import { formatIp, parseIp, type Range } from '../lib/ipv4.ts';
import type { CustomerRow, CustomersRepository } from '../repositories/customers.repository.ts';
import type { PlansRepository } from '../repositories/plans.repository.ts';
import type { BlockRow, PoolsRepository } from '../repositories/pools.repository.ts';
import type { PlanWithLinks } from '../repositories/plans.repository.ts';
import type { JobRow } from '../repositories/jobs.repository.ts';
import { scrubSecrets, type AuditService } from './audit.service.ts';
import { UsableSpace, type IpamService } from './ipam.service.ts';
import type { ProvisioningService, JobIntent } from './provisioning.service.ts';
import { planIsComplete } from './plans.service.ts';
import { uniqueViolation, type Database } from '../db/database.ts';
import type { Customer, Plan } from '../db/models/index.ts';

/** Associated data binding a customer's password ciphertext to its row. */
export const passwordAad = (customerId: string): string => `mtandao:customer:${customerId}:password`;

/** Collects field problems so one answer names them all, the first leading. */
class Problems {
  readonly list: (FieldIssue & { status: number })[] = [];
  add(field: string, message: string, status = 422): void {
    if (!this.list.some((p) => p.field === field)) this.list.push({ field, message, status });
  }
  has(field: string): boolean {
    return this.list.some((p) => p.field === field);
  }
  throwIfAny(order: string[]): void {
    if (this.list.length === 0) return;
    const rank = (f: string) => {
      const i = order.indexOf(f.split('.')[0]!);
      return i < 0 ? order.length : i;
    };
    const sorted = [...this.list].sort((a, b) => rank(a.field) - rank(b.field));
    const first = sorted[0]!;
    throw new AppError(first.status, first.message, { field: first.field, issues: sorted.map(({ field, message }) => ({ field, message })) });
  }
}

const FORM_ORDER = ['connectionType', 'planId', 'networkId', 'ipAddress', 'fullName', 'phone', 'email', 'username', 'password', 'additionalAccountNumber', 'payment', 'autoActivate'];

const iso = (d: Date | string | null): string | null => (d ? new Date(d).toISOString() : null);

/** The customer lifecycle: add, edit, pay, suspend, delete, and what each must change on routers. */
export class CustomersService {
  /** Runs after a registration commits (the welcome SMS); its failure never fails the registration. */
  onRegistered?: (customerId: string) => Promise<void>;

  constructor(
    private readonly db: Database,
    private readonly customers: CustomersRepository,
    private readonly plans: PlansRepository,
    private readonly pools: PoolsRepository,
    private readonly ipam: IpamService,
    private readonly audit: AuditService,
    private readonly provisioning: ProvisioningService,
    private readonly secretBox: SecretBox,
  ) {}

  view(r: CustomerRow, job?: JobRow): CustomerView {
    return {
      id: String(r.id),
      username: r.username,
      status: r.status,
      connectionType: r.connection_type,
      planId: String(r.plan_id),
      planName: r.plan_name,
      networkId: r.network_id ? String(r.network_id) : null,
      network: r.network,
      ipAddress: r.ip_address,
      accountNumber: r.account_number,
      additionalAccountNumber: r.additional_account_number,
      fullName: r.full_name,
      phone: r.phone,
      email: r.email,
      expiresAt: iso(r.expires_at),
      activatedAt: iso(r.activated_at),
      balance: formatAmount(r.balance_minor),
      createdAt: iso(r.created_at)!,
      createdBy: r.created_by_username,
      latestJob: job
        ? {
            id: String(job.id),
            type: job.type,
            status: job.status,
            reason: job.reason,
            attempts: job.attempts,
            lastError: job.last_error,
            routerError: job.router_error,
            routerName: job.router_name ?? null,
            createdAt: iso(job.created_at)!,
            updatedAt: iso(job.updated_at)!,
          }
        : null,
    };
  }

  async get(id: string): Promise<CustomerView> {
    const row = await this.customers.row(id);
    if (!row) throw notFound('Customer');
    const jobs = await this.provisioning.latestForCustomers([id]);
    return this.view(row, jobs.get(id));
  }

  async list(query: { search?: string | undefined; status?: string | undefined; connectionType?: string | undefined; planId?: string | undefined; page: number; pageSize: number }) {
    const phone = query.search ? normaliseKenyanMobile(query.search) : undefined;
    const { rows, total } = await this.customers.list({ ...query, phone }, query.pageSize, (query.page - 1) * query.pageSize);
    const jobs = await this.provisioning.latestForCustomers(rows.map((r) => String(r.id)));
    return { items: rows.map((r) => this.view(r, jobs.get(String(r.id)))), total };
  }

  /** Checks a plan can take a customer of this type; returns it with its routers and pools. */
  private async checkPlan(problems: Problems, planId: string, connectionType: ConnectionType, tx: Transaction): Promise<PlanWithLinks | undefined> {
    return validatePlan(problems, (await this.plans.withLinks(planId, tx)) ?? null, connectionType);
  }

  /** Loads the blocks of a plan's pools and checks the network and IP against them. */
  private async checkAddress(problems: Problems, poolIds: string[], networkId: string | undefined, ipAddress: string | undefined, tx: Transaction): Promise<{ block: BlockRow; ip: string } | undefined> {
    return validateAddress(problems, await this.pools.blocksOfPools(poolIds, tx), networkId, ipAddress);
  }

  private async checkPhone(problems: Problems, phone: string): Promise<string | undefined> {
    const normalised = normaliseKenyanMobile(phone);
    if (!normalised) problems.add('phone', INVALID_PHONE_MESSAGE);
    return normalised;
  }

  /**
   * Add a customer (SPEC section 4): every error naming its field, and nothing half-written. One
   * round trip reads what the decision needs; one statement writes the customer, its payments, its
   * provisioning jobs and its audit entry together.
   */
  async create(meta: RequestMeta, input: CreateCustomerInput): Promise<CustomerView> {
    const ctx = await this.customers.addContext(input.planId, input.username, input.additionalAccountNumber ?? null);
    const problems = new Problems();
    const plan = validatePlan(problems, ctx.plan, input.connectionType);
    const address = input.connectionType !== 'hotspot' && plan ? validateAddress(problems, ctx.blocks, input.networkId, input.ipAddress) : undefined;
    if (input.connectionType !== 'hotspot' && !plan && !input.ipAddress) problems.add('ipAddress', IP_REQUIRED_MESSAGE);
    const phone = await this.checkPhone(problems, input.phone);
    if (ctx.username_taken) problems.add('username', USERNAME_EXISTS_MESSAGE, 409);
    else if (ctx.username_is_account) problems.add('username', 'This username is already another customer’s account number', 409);
    if (input.additionalAccountNumber && (ctx.additional_taken || input.additionalAccountNumber.toLowerCase() === input.username.toLowerCase())) {
      problems.add('additionalAccountNumber', 'Additional account number already exists', 409);
    }
    problems.throwIfAny(FORM_ORDER);
    const p = plan!;

    const customerId = ctx.next_id;
    const now = new Date();
    const active = input.autoActivate;
    const price = BigInt(p.price_minor);
    const paid = input.payment.customAmount ? parseAmount(input.payment.customAmount)! : price;
    const expiresAt = active ? addValidity(now, p.validity_count, p.validity_unit) : null;
    // a custom amount below the price leaves a debt, above it a credit
    const balance = active ? paid - price : 0n;
    const method = input.payment.method;
    const reference = input.payment.reference ?? null;
    const routers = !active ? [] : address ? [String(address.block.router_id)] : p.router_ids;
    const reason = 'customer added and activated';
    let written: { created_at: Date; job_ids: string[] };
    try {
      written = await this.customers.insertWithEffects(
        {
          id: customerId,
          connectionType: input.connectionType,
          planId: input.planId,
          networkId: address ? String(address.block.id) : null,
          ipAddress: address?.ip ?? null,
          fullName: input.fullName,
          phone: phone!,
          email: input.email ?? null,
          username: input.username,
          passwordEnc: this.secretBox.encrypt(input.password ?? readablePassword(), passwordAad(customerId)),
          accountNumber: input.username,
          additionalAccountNumber: input.additionalAccountNumber ?? null,
          status: active ? 'active' : 'inactive',
          expiresAt,
          activatedAt: active ? now : null,
          balanceMinor: balance.toString(),
          createdBy: meta.actor.userId,
        },
        [
          ...(input.payment.installationFee ? [{ method, kind: 'installation', amountMinor: parseAmount(input.payment.installationFee)!, reference, note: 'installation fee at registration' }] : []),
          ...(active ? [{ method, kind: 'plan', amountMinor: paid, reference, note: input.payment.customAmount ? 'custom amount at registration' : 'plan price at registration' }] : []),
        ],
        routers.map((routerId) => ({ routerId, reason, expiresAt: this.provisioning.jobExpiry() })),
        {
          userId: meta.actor.userId,
          username: meta.actor.username,
          details: scrubSecrets({ username: input.username, connectionType: input.connectionType, planId: input.planId, ipAddress: address?.ip, autoActivate: active, payment: input.payment }) as Record<string, unknown>,
          requestId: meta.requestId,
          ip: meta.ip ?? null,
        },
      );
    } catch (err) {
      throw translateUnique(err);
    }
    if (routers.length > 0) this.provisioning.wakeLocal(routers);
    if (this.onRegistered) await this.onRegistered(customerId).catch(() => undefined); // a welcome SMS never fails a registration
    // the answer is built from what was written: no second read
    const created = new Date(written.created_at).toISOString();
    const jobId = written.job_ids[written.job_ids.length - 1];
    return {
      id: customerId,
      username: input.username,
      status: active ? 'active' : 'inactive',
      connectionType: input.connectionType,
      planId: String(p.id),
      planName: p.name,
      networkId: address ? String(address.block.id) : null,
      network: address?.block.cidr ?? null,
      ipAddress: address?.ip ?? null,
      accountNumber: input.username,
      additionalAccountNumber: input.additionalAccountNumber ?? null,
      fullName: input.fullName,
      phone: phone!,
      email: input.email ?? null,
      expiresAt: expiresAt?.toISOString() ?? null,
      activatedAt: active ? now.toISOString() : null,
      balance: formatAmount(balance),
      createdAt: created,
      createdBy: meta.actor.username,
      latestJob: jobId
        ? { id: jobId, type: 'customer.apply', status: 'pending', reason, attempts: 0, lastError: null, routerError: null, routerName: null, createdAt: created, updatedAt: created }
        : null,
    };
  }

  private async recordPayment(tx: Transaction, meta: RequestMeta, customerId: string, p: { method: PaymentMethod | null; kind: PaymentKind; amountMinor: bigint; reference?: string | undefined; note?: string | undefined }): Promise<string> {
    const row = await this.customers.createPayment(
      { customerId, method: p.method, kind: p.kind, amountMinor: p.amountMinor.toString(), reference: p.reference ?? null, note: p.note ?? null, staffUserId: meta.actor.userId },
      tx,
    );
    return String(row.id);
  }

  private async enqueueApply(tx: Transaction, meta: RequestMeta | null, c: { id: string; networkId: string | null; planId: string; username: string }, reason: string): Promise<void> {
    const routers = await this.customers.routersFor(c, tx);
    // the username rides along so the job history still names the customer after a delete
    await this.provisioning.enqueue(tx, routers.map((routerId) => ({ routerId, type: 'customer.apply', customerId: c.id, reason, payload: { username: c.username } })), meta?.actor.userId ?? null);
  }

  private removalIntents(routers: string[], c: Customer, reason: string): JobIntent[] {
    const ref = { customerId: String(c.id), connectionType: c.connectionType, username: c.username, ...(c.ipAddress ? { ipAddress: c.ipAddress } : {}) };
    return routers.map((routerId) => ({ routerId, type: 'customer.remove', customerId: String(c.id), reason, payload: { customer: ref, username: c.username } }));
  }

  /** Whether the customer has entries on routers (inactive ones have none). */
  private onRouters(c: Pick<Customer, 'status'>): boolean {
    return c.status !== 'inactive';
  }

  async update(meta: RequestMeta, id: string, input: { fullName?: string | undefined; phone?: string | undefined; email?: string | null | undefined; username?: string | undefined; password?: string | undefined; networkId?: string | undefined; ipAddress?: string | undefined; additionalAccountNumber?: string | null | undefined }): Promise<CustomerView> {
    try {
      await this.db.transaction(async (tx) => {
        const c = await this.customers.findById(id, tx, true);
        if (!c) throw notFound('Customer');
        const problems = new Problems();
        const patch: Partial<CreationAttributes<Customer>> = {};
        if (input.fullName !== undefined) patch.fullName = input.fullName;
        if (input.email !== undefined) patch.email = input.email;
        if (input.phone !== undefined) {
          const phone = await this.checkPhone(problems, input.phone);
          if (phone) patch.phone = phone;
        }
        if (input.username !== undefined && input.username.toLowerCase() !== c.username.toLowerCase()) {
          if (await this.customers.usernameTaken(input.username, id, tx)) problems.add('username', USERNAME_EXISTS_MESSAGE, 409);
          patch.username = input.username;
        } else if (input.username !== undefined) patch.username = input.username;
        if (input.additionalAccountNumber !== undefined) {
          const v = input.additionalAccountNumber || null;
          if (v && (await this.customers.accountNumberTaken(v, id, tx))) problems.add('additionalAccountNumber', 'Additional account number already exists', 409);
          patch.additionalAccountNumber = v;
        }
        if (input.password !== undefined) patch.passwordEnc = this.secretBox.encrypt(input.password, passwordAad(id));
        if ((input.ipAddress !== undefined || input.networkId !== undefined) && c.connectionType !== 'hotspot') {
          const links = await this.plans.links([String(c.planId)], tx);
          const address = await this.checkAddress(problems, links.pools.get(String(c.planId)) ?? [], input.networkId ?? c.networkId ?? undefined, input.ipAddress ?? c.ipAddress ?? undefined, tx);
          if (address) {
            patch.networkId = String(address.block.id);
            patch.ipAddress = address.ip;
          }
        }
        problems.throwIfAny(FORM_ORDER);
        const before = await this.customers.routersFor({ networkId: c.networkId, planId: String(c.planId) }, tx);
        await this.customers.update(id, patch, tx);
        const touchesRouter = ['username', 'passwordEnc', 'ipAddress', 'networkId'].some((k) => k in patch);
        if (touchesRouter && this.onRouters(c)) {
          const after = await this.customers.routersFor({ networkId: patch.networkId ?? c.networkId, planId: String(c.planId) }, tx);
          // a new username or router means the old entries must go first
          const renamed = patch.username !== undefined && patch.username !== c.username;
          const leaving = renamed ? before : before.filter((r) => !after.includes(r));
          await this.provisioning.enqueue(tx, [...this.removalIntents(leaving, c, 'customer login or router changed'), ...after.map((routerId) => ({ routerId, type: 'customer.apply', customerId: id, reason: 'customer edited', payload: { username: patch.username ?? c.username } }))], meta.actor.userId);
        }
        await this.audit.record(meta, 'customer.update', 'customer', id, { ...input, password: input.password ? 'changed' : undefined }, tx);
      });
      return this.get(id);
    } catch (err) {
      throw translateUnique(err);
    }
  }

  async remove(meta: RequestMeta, id: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const c = await this.customers.findById(id, tx, true);
      if (!c) throw notFound('Customer');
      if (this.onRouters(c)) {
        const routers = await this.customers.routersFor({ networkId: c.networkId, planId: String(c.planId) }, tx);
        await this.provisioning.enqueue(tx, this.removalIntents(routers, c, 'customer deleted'), meta.actor.userId);
      }
      await this.customers.remove(id, tx); // frees the IP address with the row
      await this.audit.record(meta, 'customer.delete', 'customer', id, { username: c.username, ipAddress: c.ipAddress }, tx);
    });
  }

  /** The customer's password in clear, for staff; every reveal is audited. */
  async revealPassword(meta: RequestMeta, id: string): Promise<{ password: string }> {
    const c = await this.customers.findById(id);
    if (!c) throw notFound('Customer');
    const password = this.passwordOf(c);
    await this.audit.record(meta, 'customer.password.reveal', 'customer', id, { username: c.username });
    return { password };
  }

  /** Decrypts a password for the dispatcher (never logged, never stored in clear). */
  passwordOf(c: Pick<Customer, 'id' | 'passwordEnc'>): string {
    try {
      return this.secretBox.decrypt(c.passwordEnc, passwordAad(String(c.id)));
    } catch (err) {
      throw new AppError(500, "This customer's password cannot be decrypted: the encryption key differs or the row was tampered with", { code: 'internal', cause: err });
    }
  }

  /** A unique, RouterOS-safe username from the name (or the phone). */
  async generateUsername(input: { name?: string | undefined; phone?: string | undefined }): Promise<{ username: string }> {
    const fromName = (input.name ?? '')
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter(Boolean);
    let stem = '';
    if (fromName.length > 0) stem = fromName.length === 1 ? fromName[0]! : `${fromName[0]}.${fromName[fromName.length - 1]}`;
    if (!stem && input.phone) {
      const phone = normaliseKenyanMobile(input.phone);
      if (phone) stem = `0${phone.slice(3)}`;
    }
    if (!stem) throw new AppError(422, 'Enter the full name or phone number first', { field: 'name', issues: [{ field: 'name', message: 'Enter the full name or phone number first' }] });
    stem = stem.slice(0, 24);
    if (stem.length < 3) stem = stem.padEnd(3, '0');
    const taken = new Set(await this.customers.usernamesLike(stem));
    if (!taken.has(stem)) return { username: stem };
    for (let n = 2; ; n++) if (!taken.has(`${stem}${n}`)) return { username: `${stem}${n}` };
  }

  /** A unique additional account number. */
  async generateAccountNumber(): Promise<{ accountNumber: string }> {
    for (let i = 0; i < 20; i++) {
      const candidate = `MT${randomInt(100000, 1000000)}`;
      if (!(await this.customers.accountNumberTaken(candidate))) return { accountNumber: candidate };
    }
    throw new AppError(409, 'Could not find a free account number; try again');
  }

  // payments and the lifecycle

  async payments(id: string): Promise<{ items: PaymentView[]; total: number }> {
    if (!(await this.customers.findById(id))) throw notFound('Customer');
    const rows = await this.customers.payments(id);
    return {
      items: rows.map((p) => ({
        id: String(p.id),
        customerId: String(p.customer_id),
        method: p.method,
        kind: p.kind,
        amount: formatAmount(p.amount_minor),
        reference: p.reference,
        note: p.note,
        staff: p.staff,
        createdAt: new Date(p.created_at).toISOString(),
      })),
      total: rows.length,
    };
  }

  /** Locks the customer, applies a change, queues what routers need, audits: one transaction. */
  private async transition(meta: RequestMeta, id: string, action: string, fn: (c: Customer, plan: Plan, tx: Transaction) => Promise<{ patch?: Partial<CreationAttributes<Customer>>; details?: Record<string, unknown>; jobs?: 'apply' | 'none' | JobIntent[] }>): Promise<CustomerView> {
    await this.db.transaction(async (tx) => {
      const c = await this.customers.findById(id, tx, true);
      if (!c) throw notFound('Customer');
      const plan = (await this.plans.findById(String(c.planId), tx))!;
      const out = await fn(c, plan, tx);
      if (out.patch && Object.keys(out.patch).length > 0) await this.customers.update(id, out.patch, tx);
      if (out.jobs === 'apply') await this.enqueueApply(tx, meta, { id, networkId: c.networkId, planId: String(c.planId), username: c.username }, action.replace('customer.', 'customer '));
      else if (Array.isArray(out.jobs)) await this.provisioning.enqueue(tx, out.jobs, meta.actor.userId);
      await this.audit.record(meta, action, 'customer', id, out.details ?? {}, tx);
    });
    return this.get(id);
  }

  async addPayment(meta: RequestMeta, id: string, input: { method?: PaymentMethod | undefined; amount: string; kind: PaymentKind; reference?: string | undefined; note?: string | undefined }): Promise<{ payment: PaymentView; customer: CustomerView }> {
    const amount = parseAmount(input.amount)!;
    if (amount <= 0n) throw new AppError(422, 'Amount must be more than zero', { field: 'amount', issues: [{ field: 'amount', message: 'Amount must be more than zero' }] });
    let paymentId = '';
    const customer = await this.transition(meta, id, input.kind === 'debt' ? 'customer.debt' : 'customer.payment', async (c, plan, tx) => {
      paymentId = await this.recordPayment(tx, meta, id, { method: input.method ?? null, kind: input.kind, amountMinor: amount, reference: input.reference, note: input.note });
      const details = { method: input.method, kind: input.kind, amount: input.amount, reference: input.reference };
      if (input.kind === 'debt') {
        await this.customers.addBalance(id, -amount, tx);
        return { details, jobs: 'none' };
      }
      if (input.kind !== 'plan') {
        if (input.kind === 'adjustment') await this.customers.addBalance(id, amount, tx);
        return { details, jobs: 'none' };
      }
      // a plan payment renews: from the later of now and the current expiry
      await this.customers.addBalance(id, amount - BigInt(plan.priceMinor), tx);
      const now = new Date();
      const base = c.expiresAt && c.expiresAt > now ? c.expiresAt : now;
      const expiresAt = addValidity(base, plan.validityCount, plan.validityUnit);
      const status = c.status === 'suspended' ? 'suspended' : 'active';
      return { patch: { expiresAt, status, activatedAt: c.activatedAt ?? now }, details: { ...details, expiresAt: expiresAt.toISOString() }, jobs: 'apply' };
    });
    const payment = (await this.payments(id)).items.find((p) => p.id === paymentId)!;
    return { payment, customer };
  }

  activate(meta: RequestMeta, id: string): Promise<CustomerView> {
    return this.transition(meta, id, 'customer.activate', async (c, plan) => {
      if (c.status === 'active') throw new AppError(409, 'Customer is already active');
      if (c.status === 'suspended') throw new AppError(409, 'Customer is suspended: unsuspend instead');
      const now = new Date();
      const expiresAt = c.expiresAt && c.expiresAt > now ? c.expiresAt : addValidity(now, plan.validityCount, plan.validityUnit);
      return { patch: { status: 'active', expiresAt, activatedAt: c.activatedAt ?? now }, details: { expiresAt: expiresAt.toISOString() }, jobs: 'apply' };
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
      const routers = await this.customers.routersFor({ networkId: c.networkId, planId: String(c.planId) }, tx);
      const ref = { customerId: id, connectionType: c.connectionType, username: c.username, ...(c.ipAddress ? { ipAddress: c.ipAddress } : {}) };
      return { jobs: routers.map((routerId) => ({ routerId, type: 'customer.disconnect', customerId: id, reason: 'disconnected by staff', payload: { customer: ref } })) };
    });
  }

  extend(meta: RequestMeta, id: string, input: { count: number; unit: ValidityUnit }): Promise<CustomerView> {
    return this.transition(meta, id, 'customer.extend', async (c) => {
      if (c.status !== 'active' && c.status !== 'expired') throw new AppError(409, `Only active or expired customers can be extended (this one is ${c.status})`);
      const now = new Date();
      const base = c.expiresAt && c.expiresAt > now ? c.expiresAt : now;
      const expiresAt = addValidity(base, input.count, input.unit);
      return { patch: { expiresAt, status: 'active' }, details: { ...input, expiresAt: expiresAt.toISOString() }, jobs: c.status === 'expired' ? 'apply' : 'none' };
    });
  }

  changePlan(meta: RequestMeta, id: string, input: { planId: string; networkId?: string | undefined; ipAddress?: string | undefined }): Promise<CustomerView> {
    return this.transition(meta, id, 'customer.change-plan', async (c, _old, tx) => {
      const problems = new Problems();
      const info = await this.checkPlan(problems, input.planId, c.connectionType, tx);
      let patch: Partial<CreationAttributes<Customer>> = { planId: input.planId };
      if (info && c.connectionType !== 'hotspot') {
        const blocks = await this.pools.blocksOfPools(info.pool_ids, tx);
        const keeps = !input.networkId && !input.ipAddress && blocks.some((n) => String(n.id) === String(c.networkId));
        if (!keeps) {
          const address = await this.checkAddress(problems, info.pool_ids, input.networkId, input.ipAddress, tx);
          if (address) patch = { ...patch, networkId: String(address.block.id), ipAddress: address.ip };
        }
      }
      problems.throwIfAny(['planId', 'networkId', 'ipAddress']);
      if (!this.onRouters(c)) return { patch, details: { from: String(c.planId), to: input.planId }, jobs: 'none' };
      const before = await this.customers.routersFor({ networkId: c.networkId, planId: String(c.planId) }, tx);
      const after = await this.customers.routersFor({ networkId: patch.networkId ?? c.networkId, planId: input.planId }, tx);
      const jobs: JobIntent[] = [
        ...this.removalIntents(before.filter((r) => !after.includes(r)), c, 'plan changed: router no longer carries the customer'),
        ...after.map((routerId) => ({ routerId, type: 'customer.apply', customerId: id, reason: 'plan changed', payload: { username: c.username } })),
      ];
      return { patch, details: { from: String(c.planId), to: input.planId }, jobs };
    });
  }
}

/** Checks a plan can take a customer of this type. */
function validatePlan<P extends { connection_type: ConnectionType; name: string; price_minor: string | null; download_speed: string; upload_speed: string; validity_count: number; router_ids: string[]; pool_ids: string[] }>(
  problems: Problems,
  plan: P | null,
  connectionType: ConnectionType,
): P | undefined {
  if (!plan) {
    problems.add('planId', 'Plan not found');
    return undefined;
  }
  if (plan.connection_type !== connectionType) {
    problems.add('planId', `This plan is for ${label(plan.connection_type)} customers; choose a ${label(connectionType)} plan`);
    return undefined;
  }
  if (!plan.name || plan.price_minor === null || !plan.download_speed || !plan.upload_speed || !plan.validity_count) {
    problems.add('planId', PLAN_REQUIRED_MESSAGE);
    return undefined;
  }
  if (!planIsComplete({ connectionType: plan.connection_type }, plan.router_ids, plan.pool_ids)) {
    problems.add('planId', connectionType === 'hotspot' ? 'This plan is not on any router yet: add a router to it under Internet Plans' : 'This plan has no IP pool yet: add one under Internet Plans');
    return undefined;
  }
  return plan;
}

/**
 * Checks network and IP for PPPoE/Static: the block must be one of the plan's and the address
 * usable in it. Whether it is free is the unique index's to say, at insert (409).
 */
function validateAddress(problems: Problems, blocks: BlockRow[], networkId: string | undefined, ipAddress: string | undefined): { block: BlockRow; ip: string } | undefined {
  let block: BlockRow | undefined;
  if (networkId) {
    block = blocks.find((n) => String(n.id) === networkId);
    if (!block) problems.add('networkId', "Network address is not one of this plan's blocks");
  } else if (blocks.length === 1) {
    block = blocks[0]; // a plan with one block: auto-selected, as the form does
  } else {
    problems.add('networkId', 'Network address is required');
  }
  if (!ipAddress) {
    problems.add('ipAddress', IP_REQUIRED_MESSAGE);
    return undefined;
  }
  const ip = parseIp(ipAddress);
  if (ip === undefined) {
    problems.add('ipAddress', 'IP address must be an IPv4 address like 10.64.3.10');
    return undefined;
  }
  if (!block) return undefined;
  const space = new UsableSpace(block.cidr, block.gateway, block.reserved.map(([a, b]) => [parseIp(a)!, parseIp(b)!] as Range));
  if (!space.contains(ip)) {
    problems.add('ipAddress', IP_NOT_AVAILABLE_MESSAGE, 422);
    return undefined;
  }
  return { block, ip: formatIp(ip) };
}

function label(t: ConnectionType): string {
  return t === 'pppoe' ? 'PPPoE' : t === 'hotspot' ? 'Hotspot' : 'Static';
}

function translateUnique(err: unknown): unknown {
  const constraint = uniqueViolation(err);
  if (!constraint) return err;
  if (constraint === 'customers_ip_key') return new AppError(409, IP_NOT_AVAILABLE_MESSAGE, { field: 'ipAddress', issues: [{ field: 'ipAddress', message: IP_NOT_AVAILABLE_MESSAGE }] });
  if (constraint === 'customers_username_key') return new AppError(409, USERNAME_EXISTS_MESSAGE, { field: 'username', issues: [{ field: 'username', message: USERNAME_EXISTS_MESSAGE }] });
  if (constraint === 'customers_account_key') return new AppError(409, 'Account number already exists', { field: 'username' });
  if (constraint === 'customers_additional_account_key') return new AppError(409, 'Additional account number already exists', { field: 'additionalAccountNumber' });
  return err;
}
