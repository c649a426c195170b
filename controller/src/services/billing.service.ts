import type { AccountView, CustomerView, LedgerEntryView, PaymentPreview } from '@mtandao/protocol/api';
import type { CustomerStatus, PaymentMethod } from '@mtandao/protocol';
import type { Transaction } from 'sequelize';
import { AppError, notFound } from '../errors.ts';
import type { RequestMeta } from '../http/route.ts';
import { formatAmount, parseAmount } from '../domain/money.ts';
import { uniqueViolation, type Database } from '../db/database.ts';
import type { Customer, Plan } from '../db/models/index.ts';
import { amountDue, applyPayment, covers, describePayment, type AccountState, type PlanTerms } from '../domain/billing.ts';
import type { BillingRepository, PaymentPlanRow } from '../repositories/billing.repository.ts';
import type { CustomersRepository } from '../repositories/customers.repository.ts';
import type { LedgerRepository, LedgerRow, NewEntry } from '../repositories/ledger.repository.ts';
import type { PlansRepository } from '../repositories/plans.repository.ts';
import type { AuditService } from './audit.service.ts';
import type { CustomerJobs } from './customer-jobs.ts';
import type { SettingsService } from './settings.service.ts';

export const iso = (d: Date | string | null): string | null => (d ? new Date(d).toISOString() : null);

/** A ledger entry as the API shows it. */
export function entryView(r: LedgerRow): LedgerEntryView {
  return {
    id: r.id,
    customerId: r.customer_id,
    customerName: r.customer_name,
    customerUsername: r.customer_username,
    side: r.side,
    kind: r.kind,
    method: r.method,
    amount: formatAmount(r.amount_minor),
    balanceAfter: formatAmount(r.balance_after_minor),
    reference: r.reference,
    note: r.note,
    receiptNumber: r.receipt_number,
    reversesId: r.reverses_id,
    reversedById: r.reversed_by_id,
    staff: r.staff,
    planId: r.plan_id,
    periodStart: iso(r.period_start),
    periodEnd: iso(r.period_end),
    createdAt: iso(r.created_at)!,
  };
}

/** A plan's terms for the rules. */
export const planTerms = (p: Pick<Plan, 'id' | 'priceMinor' | 'validityCount' | 'validityUnit'>): PlanTerms => ({
  id: String(p.id),
  priceMinor: BigInt(p.priceMinor),
  validityCount: p.validityCount,
  validityUnit: p.validityUnit,
});

/** A customer's account for the rules. */
export const accountState = (c: Pick<Customer, 'status' | 'expiresAt' | 'balanceMinor'>): AccountState => ({
  status: c.status,
  expiresAt: c.expiresAt ? new Date(c.expiresAt) : null,
  balanceMinor: BigInt(c.balanceMinor),
});

/** The answer of receivePayment (the seam M-Pesa calls). */
export interface ReceivedPayment {
  entryId: string;
  receiptNumber: string;
  periods: number;
  expiresAt: string | null;
  status: CustomerStatus;
}

/** The customer after a payment, as its receipt shows it (no read after the write). */
export interface PaidCustomer {
  id: string;
  connection_type: CustomerView['connectionType'];
  username: string;
  full_name: string;
  phone: string;
  account_number: string;
  balance_minor: bigint;
  expires_at: Date | null;
  plan_name: string;
  price_minor: bigint;
}

/**
 * Called after a payment is credited, inside its transaction (the SMS receipt plugs in here).
 * `paid` is the payment and the customer after it, when the caller knows them (a plan payment does).
 */
export type PaymentHook = (customerId: string, entryId: string, tx: Transaction, paid?: { amountMinor: bigint; customer: PaidCustomer }) => Promise<void>;

const contextTerms = (p: PaymentPlanRow): PlanTerms => ({
  id: p.id,
  priceMinor: BigInt(p.price_minor),
  validityCount: p.validity_count,
  validityUnit: p.validity_unit,
});

/** What the billing service works with. */
export interface BillingDeps {
  db: Database;
  customers: CustomersRepository;
  plans: PlansRepository;
  ledger: LedgerRepository;
  billing: BillingRepository;
  settings: SettingsService;
  audit: AuditService;
  jobs: CustomerJobs;
  currency: string;
  /** the customer as the API shows it (for answers) */
  customerView: (id: string) => Promise<CustomerView>;
}

/**
 * The customer's account: payments through the rules of SPEC section 11, debts, adjustments and
 * reversals (the Payments page and receipts: payments.service.ts). Every entry and its balance move in one transaction.
 */
export class BillingService {
  constructor(
    private readonly d: BillingDeps,
    private readonly onPaymentReceived?: PaymentHook,
  ) {}

  private async locked(id: string, tx: Transaction): Promise<{ c: Customer; plan: Plan; nextPlan: Plan | null }> {
    const c = await this.d.customers.findById(id, tx, true);
    if (!c) throw notFound('Customer');
    const plan = (await this.d.plans.findById(String(c.planId), tx))!;
    const nextPlan = c.nextPlanId ? await this.d.plans.findById(String(c.nextPlanId), tx) : null;
    return { c, plan, nextPlan };
  }

  /** Credits a payment, applies the renewal rule, queues router changes, audits. Runs in `tx` when given. */
  async receivePayment(
    meta: RequestMeta | null,
    input: { customerId: string; method: PaymentMethod; amountMinor: bigint; reference?: string | undefined; note?: string | undefined },
    tx?: Transaction,
  ): Promise<ReceivedPayment> {
    if (input.amountMinor <= 0n)
      throw new AppError(422, 'Amount must be more than zero', { field: 'amount', issues: [{ field: 'amount', message: 'Amount must be more than zero' }] });
    const run = async (t: Transaction): Promise<ReceivedPayment> => {
      // one read: the customer locked, its plans and routers
      const c = await this.d.billing.paymentContext(input.customerId, t);
      if (!c) throw notFound('Customer');
      const settings = await this.d.settings.billing();
      const plan = contextTerms(c.plan);
      const nextPlan = c.next_plan ? contextTerms(c.next_plan) : null;
      const state: AccountState = { status: c.status, expiresAt: c.expires_at ? new Date(c.expires_at) : null, balanceMinor: BigInt(c.balance_minor) };
      const out = applyPayment(state, plan, input.amountMinor, new Date(), { nextPlan, graceHours: settings.graceHours });
      const entries: NewEntry[] = [
        { side: 'credit', kind: 'payment', method: input.method, amountMinor: input.amountMinor, reference: input.reference ?? null, note: input.note ?? null },
        ...out.charges
          .filter((ch) => ch.amountMinor > 0n)
          .map((ch): NewEntry => ({
            side: 'charge',
            kind: 'plan',
            amountMinor: ch.amountMinor,
            planId: ch.planId,
            periodStart: ch.periodStart,
            periodEnd: ch.periodEnd,
            note: 'plan period',
          })),
      ];
      const switched = out.planId !== c.plan_id;
      // the renewal rides on the ledger's UPDATE of the customer (a scheduled plan is switched onto, or cleared)
      const renewal = out.renewed
        ? { expiresAt: out.expiresAt, status: out.status, ...(switched || c.next_plan_id ? { switchTo: out.planId } : {}) }
        : undefined;
      // the audit line is written by the same statement, given the entry's id and receipt number there
      const audit = this.d.audit.entry(meta, 'customer.payment', 'customer', input.customerId, {
        method: input.method,
        amount: formatAmount(input.amountMinor),
        reference: input.reference,
        periods: out.periods,
        expiresAt: iso(out.expiresAt),
        balance: formatAmount(out.balanceAfterMinor),
      });
      const written = await this.d.ledger.append(input.customerId, entries, meta?.actor.userId ?? null, t, renewal, audit);
      const payment = written[0]!;
      if (out.renewed) {
        const routed = {
          id: c.id,
          connectionType: c.connection_type,
          username: c.username,
          ipAddress: c.ip_address,
          networkId: c.network_id,
          planId: c.plan_id,
        };
        await this.d.jobs.apply(
          t,
          meta?.actor.userId ?? null,
          routed,
          switched ? 'renewed by payment onto the scheduled plan' : 'renewed by payment',
          { planId: out.planId },
          { before: c.routers, now: switched ? (c.next_routers ?? []) : c.routers },
        );
      }
      const onPlan = switched && c.next_plan ? c.next_plan : c.plan;
      await this.onPaymentReceived?.(input.customerId, payment.id, t, {
        amountMinor: input.amountMinor,
        customer: {
          id: c.id,
          connection_type: c.connection_type,
          username: c.username,
          full_name: c.full_name,
          phone: c.phone,
          account_number: c.account_number,
          balance_minor: out.balanceAfterMinor,
          expires_at: out.expiresAt,
          plan_name: onPlan.name,
          price_minor: BigInt(onPlan.price_minor),
        },
      });
      return { entryId: payment.id, receiptNumber: payment.receipt_number!, periods: out.periods, expiresAt: iso(out.expiresAt), status: out.status };
    };
    // when the caller owns the transaction its commit wakes the dispatcher (jobs wake at commit)
    return tx ? run(tx) : this.d.db.transaction(run);
  }

  /**
   * `POST /customers/:id/payments`: `plan` (default) is a payment through the rules; `debt` a
   * charge; `installation` the fee paid (charge and payment); `adjustment` an admin's credit.
   */
  async record(
    meta: RequestMeta,
    customerId: string,
    input: {
      method?: PaymentMethod | undefined;
      amount: string;
      kind: 'plan' | 'installation' | 'debt' | 'adjustment';
      reference?: string | undefined;
      note?: string | undefined;
    },
  ): Promise<{ payment: LedgerEntryView; customer: CustomerView; periods: number; message: string }> {
    const amount = parseAmount(input.amount)!;
    if (amount <= 0n)
      throw new AppError(422, 'Amount must be more than zero', { field: 'amount', issues: [{ field: 'amount', message: 'Amount must be more than zero' }] });
    if (input.kind === 'adjustment' && meta.actor.role !== 'admin') throw new AppError(403, 'Only an admin may credit an adjustment');
    if ((input.kind === 'plan' || input.kind === 'installation') && !input.method)
      throw new AppError(422, 'Payment method is required', { field: 'method', issues: [{ field: 'method', message: 'Payment method is required' }] });
    let entryId: string;
    let periods = 0;
    let message: string;
    if (input.kind === 'plan') {
      const r = await this.receivePayment(meta, { customerId, method: input.method!, amountMinor: amount, reference: input.reference, note: input.note });
      entryId = r.entryId;
      periods = r.periods;
      message =
        r.status === 'suspended'
          ? `Receipt ${r.receiptNumber}: credited; the customer stays suspended.`
          : r.periods > 0
            ? `Receipt ${r.receiptNumber}: renewed ${r.periods} period${r.periods === 1 ? '' : 's'}, to ${formatWhen(new Date(r.expiresAt!))}.`
            : `Receipt ${r.receiptNumber}: kept as credit, nothing renewed.`;
    } else {
      entryId = await this.d.db.transaction(async (tx) => {
        const { c } = await this.locked(customerId, tx);
        const base = { reference: input.reference ?? null, note: input.note ?? null };
        const entries: NewEntry[] =
          input.kind === 'debt'
            ? [{ side: 'charge', kind: 'debt', amountMinor: amount, ...base }]
            : input.kind === 'adjustment'
              ? [{ side: 'credit', kind: 'adjustment', method: input.method ?? null, amountMinor: amount, ...base }]
              : [
                  { side: 'charge', kind: 'installation', amountMinor: amount, note: input.note ?? 'installation fee' },
                  {
                    side: 'credit',
                    kind: 'payment',
                    method: input.method!,
                    amountMinor: amount,
                    reference: input.reference ?? null,
                    note: input.note ?? 'installation fee',
                  },
                ];
        const written = await this.d.ledger.append(customerId, entries, meta.actor.userId, tx);
        const main = input.kind === 'installation' ? written[1]! : written[0]!;
        await this.d.audit.record(
          meta,
          `customer.${input.kind}`,
          'customer',
          customerId,
          { entryId: main.id, method: input.method, amount: input.amount, reference: input.reference, note: input.note, username: c.username },
          tx,
        );
        if (input.kind === 'installation') await this.onPaymentReceived?.(customerId, main.id, tx);
        return main.id;
      });
      message = input.kind === 'debt' ? 'Debt added.' : input.kind === 'adjustment' ? 'Adjustment credited.' : 'Installation fee paid.';
    }
    const [row] = await this.d.ledger.byIds([entryId]);
    return { payment: entryView(row!), customer: await this.d.customerView(customerId), periods, message };
  }

  /**
   * Reverses an entry (admin, with a reason): an entry of the opposite side for the same amount.
   * Reversals move money only: a reversed payment that had renewed a period does not un-renew it;
   * the balance goes down (negative = debt) and the customer owes the period, visibly.
   */
  async reverse(meta: RequestMeta, id: string, reason: string): Promise<LedgerEntryView> {
    const entryId = await this.d.db
      .transaction(async (tx) => {
        const e = await this.d.ledger.get(id, tx, true);
        if (!e) throw notFound('Payment');
        if (e.kind === 'reversal') throw new AppError(409, 'A reversal cannot be reversed: record a new entry instead');
        if (e.reversed_by_id) throw new AppError(409, 'This entry is already reversed');
        if (!e.customer_id) throw new AppError(409, 'The customer of this entry was deleted: it cannot be reversed');
        await this.locked(e.customer_id, tx);
        const [written] = await this.d.ledger.append(
          e.customer_id,
          [
            {
              side: e.side === 'credit' ? 'charge' : 'credit',
              kind: 'reversal',
              method: e.method,
              amountMinor: BigInt(e.amount_minor),
              reference: e.receipt_number ?? e.reference,
              note: reason,
              reversesId: e.id,
            },
          ],
          meta.actor.userId,
          tx,
        );
        await this.d.audit.record(
          meta,
          'ledger.reverse',
          'customer',
          e.customer_id,
          { entryId: e.id, reversalId: written!.id, kind: e.kind, amount: formatAmount(e.amount_minor), receiptNumber: e.receipt_number, reason },
          tx,
        );
        return written!.id;
      })
      // two admins at once: the second waited on the lock, read the entry as unreversed, and the unique reverses_id refused it
      .catch((err: unknown) => {
        if (uniqueViolation(err) === 'ledger_entries_reverses_id_key') throw new AppError(409, 'This entry is already reversed');
        throw err;
      });
    const [row] = await this.d.ledger.byIds([entryId]);
    return entryView(row!);
  }

  /** All entries of a customer, newest first. */
  async entries(customerId: string, page = 1, pageSize = 200): Promise<{ items: LedgerEntryView[]; total: number }> {
    if (!(await this.d.customers.findById(customerId))) throw notFound('Customer');
    const { rows, total } = await this.d.ledger.ofCustomer(customerId, pageSize, (page - 1) * pageSize);
    return { items: rows.map(entryView), total };
  }

  /** The balance, what is due now and what the balance covers. */
  async account(customerId: string): Promise<AccountView> {
    const c = await this.d.customers.findById(customerId);
    if (!c) throw notFound('Customer');
    const plan = (await this.d.plans.findById(String(c.planId)))!;
    const nextPlan = c.nextPlanId ? await this.d.plans.findById(String(c.nextPlanId)) : null;
    const renewOn = planTerms(nextPlan ?? plan);
    const settings = await this.d.settings.billing();
    const cover = covers(accountState(c), renewOn, new Date(), settings.graceHours);
    return {
      balance: formatAmount(c.balanceMinor),
      price: formatAmount(renewOn.priceMinor),
      due: formatAmount(amountDue(BigInt(c.balanceMinor), renewOn.priceMinor)),
      covers: { periods: cover.periods, until: iso(cover.until) },
      nextPlan: nextPlan ? { id: String(nextPlan.id), name: nextPlan.name } : null,
      expiresAt: iso(c.expiresAt),
      status: c.status,
    };
  }

  /** What a payment of `amount` would do, without writing anything. */
  async preview(customerId: string, amount: string): Promise<PaymentPreview> {
    const minor = parseAmount(amount)!;
    if (minor <= 0n)
      throw new AppError(422, 'Amount must be more than zero', { field: 'amount', issues: [{ field: 'amount', message: 'Amount must be more than zero' }] });
    const c = await this.d.customers.findById(customerId);
    if (!c) throw notFound('Customer');
    const plan = (await this.d.plans.findById(String(c.planId)))!;
    const nextPlan = c.nextPlanId ? await this.d.plans.findById(String(c.nextPlanId)) : null;
    const settings = await this.d.settings.billing();
    const state = accountState(c);
    const out = applyPayment(state, planTerms(plan), minor, new Date(), { nextPlan: nextPlan ? planTerms(nextPlan) : null, graceHours: settings.graceHours });
    const price = planTerms(nextPlan ?? plan).priceMinor;
    return {
      balanceBefore: formatAmount(state.balanceMinor),
      balanceAfter: formatAmount(out.balanceAfterMinor),
      periods: out.periods,
      expiresAtAfter: iso(out.expiresAt),
      statusAfter: out.status,
      message: describePayment(out, state, price, (m) => formatAmount(m), formatWhen),
    };
  }
}

/** "31 Jan 2027 14:05" (UTC). */
export function formatWhen(d: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`;
}
