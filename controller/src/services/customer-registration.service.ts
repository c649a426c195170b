import { randomInt } from 'node:crypto';
import { INVALID_PHONE_MESSAGE, IP_REQUIRED_MESSAGE, USERNAME_EXISTS_MESSAGE, type CreateCustomerInput, type CustomerView } from '@mtandao/protocol/api';
import { AppError } from '../errors.ts';
import type { RequestMeta } from '../http/route.ts';
import { formatAmount, parseAmount } from '../domain/money.ts';
import { normaliseKenyanMobile } from '../lib/phone.ts';
import { readablePassword, type SecretBox } from '../lib/secrets.ts';
import { amountDue, registration } from '../domain/billing.ts';
import type { CustomersRepository } from '../repositories/customers.repository.ts';
import type { RegistrationRepository } from '../repositories/registration.repository.ts';
import { scrubSecrets } from './audit.service.ts';
import type { ProvisioningService } from './provisioning.service.ts';
import { FORM_ORDER, Problems, translateUnique, validateAddress, validatePlan } from './customer-checks.ts';
import { passwordAad } from './customers.service.ts';

/** Digits of a generated account number: short enough to type on a phone keypad as an M-Pesa account. */
const ACCOUNT_NUMBER_DIGITS = 6;

/** Add Customer (SPEC section 4) with its first payment and period (section 11), and its generators. */
export class CustomerRegistrationService {
  /** Runs after a registration commits (the welcome SMS); its failure never fails the registration. */
  onRegistered?: (customerId: string) => Promise<void>;

  constructor(
    private readonly customers: CustomersRepository,
    private readonly registrations: RegistrationRepository,
    private readonly provisioning: ProvisioningService,
    private readonly secretBox: SecretBox,
  ) {}

  /** How concurrent adds were grouped into statements (the bench prints it). */
  get batching(): RegistrationRepository['batching'] {
    return this.registrations.batching;
  }

  /**
   * Add a customer (SPEC section 4): every error naming its field, and nothing half-written. One
   * round trip reads what the decision needs; one statement writes the customer, its payments, its
   * provisioning jobs and its audit entry together.
   */
  async create(meta: RequestMeta, input: CreateCustomerInput): Promise<CustomerView> {
    const ctx = await this.registrations.addContext(input.planId, input.username, input.additionalAccountNumber ?? null);
    const problems = new Problems();
    const plan = validatePlan(problems, ctx.plan, input.connectionType);
    const address = input.connectionType !== 'hotspot' && plan ? validateAddress(problems, ctx.blocks, input.networkId, input.ipAddress) : undefined;
    if (input.connectionType !== 'hotspot' && !plan && !input.ipAddress) problems.add('ipAddress', IP_REQUIRED_MESSAGE);
    const phone = normaliseKenyanMobile(input.phone);
    if (!phone) problems.add('phone', INVALID_PHONE_MESSAGE);
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
    // the first period's charge is the custom amount when one is given; Auto Activate No: nothing
    const money = registration({
      plan: { id: String(p.id), priceMinor: BigInt(p.price_minor), validityCount: p.validity_count, validityUnit: p.validity_unit },
      autoActivate: active,
      installationFeeMinor: input.payment.installationFee ? parseAmount(input.payment.installationFee)! : null,
      customAmountMinor: input.payment.customAmount ? parseAmount(input.payment.customAmount)! : null,
      now,
    });
    const expiresAt = money.expiresAt;
    const balance = money.balanceAfterMinor;
    const method = input.payment.method;
    const reference = input.payment.reference ?? null;
    const routers = !active ? [] : address ? [String(address.block.router_id)] : p.router_ids;
    const reason = 'customer added and activated';
    let written: { created_at: Date; job_ids: string[] };
    try {
      written = await this.registrations.insertWithEffects({
        row: {
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
        entries: money.lines.map((l) => ({
          side: l.side,
          kind: l.kind,
          method: l.kind === 'payment' ? method : null,
          amountMinor: l.amountMinor,
          reference: l.kind === 'payment' ? reference : null,
          note:
            l.kind === 'payment'
              ? 'paid at registration'
              : l.kind === 'installation'
                ? 'installation fee'
                : input.payment.customAmount
                  ? 'first period at the custom amount'
                  : 'first period',
          planId: l.kind === 'plan' ? String(p.id) : null,
          periodStart: l.periodStart ?? null,
          periodEnd: l.periodEnd ?? null,
        })),
        jobs: routers.map((routerId) => ({ routerId, reason, expiresAt: this.provisioning.jobExpiry() })),
        audit: {
          userId: meta.actor.userId,
          username: meta.actor.username,
          details: scrubSecrets({
            username: input.username,
            connectionType: input.connectionType,
            planId: input.planId,
            ipAddress: address?.ip,
            autoActivate: active,
            payment: input.payment,
          }) as Record<string, unknown>,
          requestId: meta.requestId,
          ip: meta.ip ?? null,
        },
      });
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
      due: formatAmount(amountDue(money.balanceAfterMinor, BigInt(p.price_minor))),
      nextPlanId: null,
      nextPlanName: null,
      createdAt: created,
      createdBy: meta.actor.username,
      latestJob: jobId
        ? {
            id: jobId,
            type: 'customer.apply',
            status: 'pending',
            reason,
            attempts: 0,
            lastError: null,
            routerError: null,
            routerName: null,
            createdAt: created,
            updatedAt: created,
          }
        : null,
    };
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
    if (!stem)
      throw new AppError(422, 'Enter the full name or phone number first', {
        field: 'name',
        issues: [{ field: 'name', message: 'Enter the full name or phone number first' }],
      });
    stem = stem.slice(0, 24);
    if (stem.length < 3) stem = stem.padEnd(3, '0');
    const taken = new Set(await this.customers.usernamesLike(stem));
    if (!taken.has(stem)) return { username: stem };
    for (let n = 2; ; n++) if (!taken.has(`${stem}${n}`)) return { username: `${stem}${n}` };
  }

  /** A unique account number of six digits: easy to type as an M-Pesa account on a phone keypad. */
  async generateAccountNumber(): Promise<{ accountNumber: string }> {
    for (let i = 0; i < 20; i++) {
      const candidate = String(randomInt(10 ** (ACCOUNT_NUMBER_DIGITS - 1), 10 ** ACCOUNT_NUMBER_DIGITS));
      if (!(await this.customers.accountNumberTaken(candidate))) return { accountNumber: candidate };
    }
    throw new AppError(409, 'Could not find a free account number; try again');
  }
}
