import type { CreationAttributes } from 'sequelize';
import { INVALID_PHONE_MESSAGE, USERNAME_EXISTS_MESSAGE, type CustomerView } from '@mtandao/protocol/api';
import { AppError, notFound } from '../errors.ts';
import type { RequestMeta } from '../http/route.ts';
import { formatAmount } from '../domain/money.ts';
import { normaliseKenyanMobile } from '../lib/phone.ts';
import type { SecretBox } from '../lib/secrets.ts';
import { amountDue } from '../domain/billing.ts';
import type { CustomerRow, CustomersRepository } from '../repositories/customers.repository.ts';
import type { PlansRepository } from '../repositories/plans.repository.ts';
import type { JobRow } from '../repositories/jobs.repository.ts';
import type { AuditService } from './audit.service.ts';
import type { ProvisioningService } from './provisioning.service.ts';
import type { CustomerJobs } from './customer-jobs.ts';
import { FORM_ORDER, Problems, translateUnique, validateAddress } from './customer-checks.ts';
import type { PoolsRepository } from '../repositories/pools.repository.ts';
import type { Database } from '../db/database.ts';
import type { Customer } from '../db/models/index.ts';

/** Associated data binding a customer's password ciphertext to its row. */
export const passwordAad = (customerId: string): string => `mtandao:customer:${customerId}:password`;

const iso = (d: Date | string | null): string | null => (d ? new Date(d).toISOString() : null);

/** Customers as records: read, list, edit, delete, reveal the password. (Add Customer, the lifecycle and the account live beside.) */
export class CustomersService {
  constructor(
    private readonly db: Database,
    private readonly customers: CustomersRepository,
    private readonly plans: PlansRepository,
    private readonly pools: PoolsRepository,
    private readonly audit: AuditService,
    private readonly provisioning: ProvisioningService,
    private readonly jobs: CustomerJobs,
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
      due: formatAmount(amountDue(BigInt(r.balance_minor), BigInt(r.renewal_price_minor))),
      nextPlanId: r.next_plan_id,
      nextPlanName: r.next_plan_name,
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

  private async checkPhone(problems: Problems, phone: string): Promise<string | undefined> {
    const normalised = normaliseKenyanMobile(phone);
    if (!normalised) problems.add('phone', INVALID_PHONE_MESSAGE);
    return normalised;
  }

  /** Whether the customer has entries on routers (inactive ones have none). */
  private onRouters(c: Pick<Customer, 'status'>): boolean {
    return c.status !== 'inactive';
  }

  async update(
    meta: RequestMeta,
    id: string,
    input: {
      fullName?: string | undefined;
      phone?: string | undefined;
      email?: string | null | undefined;
      username?: string | undefined;
      password?: string | undefined;
      networkId?: string | undefined;
      ipAddress?: string | undefined;
      additionalAccountNumber?: string | null | undefined;
    },
  ): Promise<CustomerView> {
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
          if (v && (await this.customers.accountNumberTaken(v, id, tx)))
            problems.add('additionalAccountNumber', 'Additional account number already exists', 409);
          patch.additionalAccountNumber = v;
        }
        if (input.password !== undefined) patch.passwordEnc = this.secretBox.encrypt(input.password, passwordAad(id));
        if ((input.ipAddress !== undefined || input.networkId !== undefined) && c.connectionType !== 'hotspot') {
          const links = await this.plans.links([String(c.planId)], tx);
          const address = validateAddress(
            problems,
            await this.pools.blocksOfPools(links.pools.get(String(c.planId)) ?? [], tx),
            input.networkId ?? c.networkId ?? undefined,
            input.ipAddress ?? c.ipAddress ?? undefined,
          );
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
          await this.provisioning.enqueue(
            tx,
            [
              ...this.jobs.removalIntents(leaving, c, 'customer login or router changed'),
              ...after.map((routerId) => ({
                routerId,
                type: 'customer.apply',
                customerId: id,
                reason: 'customer edited',
                payload: { username: patch.username ?? c.username },
              })),
            ],
            meta.actor.userId,
          );
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
        await this.provisioning.enqueue(tx, this.jobs.removalIntents(routers, c, 'customer deleted'), meta.actor.userId);
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
      throw new AppError(500, "This customer's password cannot be decrypted: the encryption key differs or the row was tampered with", {
        code: 'internal',
        cause: err,
      });
    }
  }
}
