import type { CustomerStatus, ValidityUnit } from '@mtandao/protocol';
import { addValidity } from './validity.ts';

// The billing rules of SPEC section 11, in one place and without I/O. Amounts are integer minor
// units (bigint); times are UTC Dates. Services read the state, call these, and write the result
// as ledger entries in one transaction.

/** The terms of a plan that money depends on. */
export interface PlanTerms {
  id: string;
  priceMinor: bigint;
  validityCount: number;
  validityUnit: ValidityUnit;
}

/** A customer's account as the rules see it. */
export interface AccountState {
  status: CustomerStatus;
  expiresAt: Date | null;
  /** credits − charges; negative is debt */
  balanceMinor: bigint;
}

/** ISP-wide billing settings (`GET/PUT /settings/billing`). */
export interface BillingSettings {
  autoRenew: boolean;
  /** hours after expiry before the router blocks (0–720) */
  graceHours: number;
  changePlanDefault: 'next-renewal' | 'now';
}

export const DEFAULT_BILLING_SETTINGS: BillingSettings = { autoRenew: true, graceHours: 0, changePlanDefault: 'next-renewal' };

/** A charge the rules ask for (written as a ledger entry of side `charge`). */
export interface PeriodCharge {
  kind: 'plan';
  amountMinor: bigint;
  planId: string;
  periodStart: Date;
  periodEnd: Date;
}

/** At most this many periods are bought by one payment; the rest stays as credit. */
export const MAX_PERIODS_PER_PAYMENT = 120;

/** The end of one period of `plan` started at `start`. */
export function periodEnd(start: Date, plan: Pick<PlanTerms, 'validityCount' | 'validityUnit'>): Date {
  return addValidity(start, plan.validityCount, plan.validityUnit);
}

/** Whether the customer is past expiry plus grace (the router should block). */
export function pastGrace(expiresAt: Date | null, graceHours: number, now: Date): boolean {
  return expiresAt !== null && expiresAt.getTime() + graceHours * 3_600_000 <= now.getTime();
}

/**
 * Where a renewal starts: from the current expiry when the customer is active (also during the
 * grace hours after it: the customer had service), from now when expired or inactive.
 */
export function renewalStart(state: Pick<AccountState, 'status' | 'expiresAt'>, now: Date, graceHours = 0): Date {
  if (state.status === 'active' && state.expiresAt && !pastGrace(state.expiresAt, graceHours, now)) return state.expiresAt;
  return now;
}

/** What a payment buys. */
export interface PaymentOutcome {
  /** balance after the credit and the period charges */
  balanceAfterMinor: bigint;
  periods: number;
  charges: PeriodCharge[];
  expiresAt: Date | null;
  status: CustomerStatus;
  /** the plan the customer is on afterwards (a scheduled next plan takes effect at a renewal) */
  planId: string;
  /** whether the customer was renewed (router entries must be updated) */
  renewed: boolean;
}

/**
 * A payment credits the account, then renews only while the balance covers the price: each
 * covered price buys one period, from the current expiry when active, from now when expired or
 * inactive. Short of the price it stays as credit. Debt is paid first (it is part of the balance).
 * A suspended customer's payment is credited; the suspension stays and nothing is renewed.
 * A scheduled next plan is the plan renewed onto, at its price.
 */
export function applyPayment(
  state: AccountState,
  plan: PlanTerms,
  amountMinor: bigint,
  now: Date,
  options: { nextPlan?: PlanTerms | null; graceHours?: number } = {},
): PaymentOutcome {
  if (amountMinor <= 0n) throw new RangeError('a payment is more than zero');
  const credited = state.balanceMinor + amountMinor;
  const unchanged: PaymentOutcome = {
    balanceAfterMinor: credited,
    periods: 0,
    charges: [],
    expiresAt: state.expiresAt,
    status: state.status,
    planId: plan.id,
    renewed: false,
  };
  if (state.status === 'suspended') return unchanged;
  const target = options.nextPlan ?? plan;
  const out = renewWhileCovered(credited, target, renewalStart(state, now, options.graceHours ?? 0), MAX_PERIODS_PER_PAYMENT);
  if (out.charges.length === 0) return unchanged;
  return {
    balanceAfterMinor: out.balance,
    periods: out.charges.length,
    charges: out.charges,
    expiresAt: out.end,
    status: 'active',
    planId: target.id,
    renewed: true,
  };
}

function renewWhileCovered(balance: bigint, plan: PlanTerms, start: Date, max: number): { balance: bigint; charges: PeriodCharge[]; end: Date } {
  const charges: PeriodCharge[] = [];
  let end = start;
  // a free plan renews one period per payment: its price is always covered
  if (plan.priceMinor <= 0n) {
    end = periodEnd(start, plan);
    return { balance, charges: [{ kind: 'plan', amountMinor: 0n, planId: plan.id, periodStart: start, periodEnd: end }], end };
  }
  while (balance >= plan.priceMinor && charges.length < max) {
    const s = end;
    end = periodEnd(s, plan);
    balance -= plan.priceMinor;
    charges.push({ kind: 'plan', amountMinor: plan.priceMinor, planId: plan.id, periodStart: s, periodEnd: end });
  }
  return { balance, charges, end };
}

/** What the account covers right now: whole periods of the price, and until when. */
export function covers(state: AccountState, plan: PlanTerms, now: Date, graceHours = 0): { periods: number; until: Date | null } {
  if (plan.priceMinor <= 0n || state.balanceMinor < plan.priceMinor) return { periods: 0, until: null };
  const out = renewWhileCovered(state.balanceMinor, plan, renewalStart(state, now, graceHours), MAX_PERIODS_PER_PAYMENT);
  return { periods: out.charges.length, until: out.end };
}

/** What must be paid now to renew one period: max(price − balance, 0). */
export function amountDue(balanceMinor: bigint, priceMinor: bigint): bigint {
  const due = priceMinor - balanceMinor;
  return due > 0n ? due : 0n;
}

/** A line of the registration: what is credited and charged when a customer is added. */
export interface RegistrationLine {
  side: 'credit' | 'charge';
  kind: 'payment' | 'installation' | 'plan';
  amountMinor: bigint;
  periodStart?: Date;
  periodEnd?: Date;
}

/** What registration writes. */
export interface RegistrationOutcome {
  lines: RegistrationLine[];
  balanceAfterMinor: bigint;
  status: CustomerStatus;
  expiresAt: Date | null;
  activatedAt: Date | null;
}

/**
 * At registration the payment covers the installation fee and the first period, whose charge is
 * the custom amount when one is given (it replaces the price for that period). Auto Activate No
 * records the customer and nothing else: no charge, no payment.
 */
export function registration(input: {
  plan: PlanTerms;
  autoActivate: boolean;
  installationFeeMinor?: bigint | null;
  customAmountMinor?: bigint | null;
  now: Date;
}): RegistrationOutcome {
  if (!input.autoActivate) return { lines: [], balanceAfterMinor: 0n, status: 'inactive', expiresAt: null, activatedAt: null };
  const fee = input.installationFeeMinor ?? 0n;
  const first = input.customAmountMinor ?? input.plan.priceMinor;
  const end = periodEnd(input.now, input.plan);
  const lines: RegistrationLine[] = [];
  if (fee + first > 0n) lines.push({ side: 'credit', kind: 'payment', amountMinor: fee + first });
  if (fee > 0n) lines.push({ side: 'charge', kind: 'installation', amountMinor: fee });
  if (first > 0n) lines.push({ side: 'charge', kind: 'plan', amountMinor: first, periodStart: input.now, periodEnd: end });
  return { lines, balanceAfterMinor: 0n, status: 'active', expiresAt: end, activatedAt: input.now };
}

/** The outcome of Activate. */
export type ActivationOutcome =
  | { ok: true; charge: PeriodCharge | null; balanceAfterMinor: bigint; expiresAt: Date; onCredit: boolean }
  | { ok: false; reason: 'already-active' | 'suspended' | 'needs-cover' };

/**
 * Activate charges the period when it starts. Without cover (balance below the price) the balance
 * goes negative (debt), which only an admin, or staff with an explicit "activate on credit", may do.
 * A customer whose paid time has not run out (an expiry in the future) is activated without a charge.
 */
export function activation(state: AccountState, plan: PlanTerms, now: Date, who: { admin: boolean; onCredit: boolean }): ActivationOutcome {
  if (state.status === 'active') return { ok: false, reason: 'already-active' };
  if (state.status === 'suspended') return { ok: false, reason: 'suspended' };
  if (state.expiresAt && state.expiresAt > now)
    return { ok: true, charge: null, balanceAfterMinor: state.balanceMinor, expiresAt: state.expiresAt, onCredit: false };
  const covered = state.balanceMinor >= plan.priceMinor;
  if (!covered && !who.admin && !who.onCredit) return { ok: false, reason: 'needs-cover' };
  const end = periodEnd(now, plan);
  const charge = plan.priceMinor > 0n ? { kind: 'plan' as const, amountMinor: plan.priceMinor, planId: plan.id, periodStart: now, periodEnd: end } : null;
  return { ok: true, charge, balanceAfterMinor: state.balanceMinor - plan.priceMinor, expiresAt: end, onCredit: !covered };
}

/** Extend Expiry: time without a charge, from the later of now and the current expiry. */
export function extension(
  state: Pick<AccountState, 'status' | 'expiresAt'>,
  count: number,
  unit: ValidityUnit,
  now: Date,
): { ok: true; expiresAt: Date; status: CustomerStatus } | { ok: false; reason: 'not-extendable' } {
  if (state.status !== 'active' && state.status !== 'expired') return { ok: false, reason: 'not-extendable' };
  const base = state.expiresAt && state.expiresAt > now ? state.expiresAt : now;
  return { ok: true, expiresAt: addValidity(base, count, unit), status: 'active' };
}

/** What the expiry engine does with an active customer whose expiry has come. */
export type ExpiryDecision =
  | { action: 'none' }
  | { action: 'renew'; charges: PeriodCharge[]; balanceAfterMinor: bigint; expiresAt: Date; planId: string; thenExpire: boolean }
  | { action: 'grace'; blockAt: Date }
  | { action: 'expire' };

/** Catch-up periods one sweep renews at most for one customer. */
export const MAX_CATCH_UP_PERIODS = 400;

/**
 * At expiry, a balance that covers the price auto-renews instead of expiring (setting, default
 * on), onto the scheduled next plan when there is one. Periods follow on from the old expiry —
 * the i-th ends i validities after it, so months keep their day — as many as the balance pays,
 * up to the first that ends after now: after a controller outage no time is lost and none is
 * charged twice. When the periods paid still end in the past, the customer then expires once past
 * the grace. Without cover: grace hours of service, then expired. The expiry sweep's SQL is this
 * rule set-based (`ExpiryRepository.autoRenew`; test/e2e/expiry.test.ts holds them side by side).
 */
export function decideAtExpiry(
  state: AccountState,
  plan: PlanTerms,
  settings: Pick<BillingSettings, 'autoRenew' | 'graceHours'>,
  now: Date,
  nextPlan?: PlanTerms | null,
  maxPeriods = MAX_CATCH_UP_PERIODS,
): ExpiryDecision {
  if (state.status !== 'active' || !state.expiresAt || state.expiresAt > now) return { action: 'none' };
  const target = nextPlan ?? plan;
  if (settings.autoRenew && target.priceMinor > 0n && state.balanceMinor >= target.priceMinor) {
    const from = state.expiresAt;
    const end = (i: number) => addValidity(from, i * target.validityCount, target.validityUnit);
    const affordable = state.balanceMinor / target.priceMinor;
    let periods = 1;
    while (periods < maxPeriods && BigInt(periods) < affordable && end(periods) <= now) periods++;
    const charges: PeriodCharge[] = Array.from({ length: periods }, (_, i) => ({
      kind: 'plan',
      amountMinor: target.priceMinor,
      planId: target.id,
      periodStart: i === 0 ? from : end(i),
      periodEnd: end(i + 1),
    }));
    const expiresAt = end(periods);
    return {
      action: 'renew',
      charges,
      balanceAfterMinor: state.balanceMinor - BigInt(periods) * target.priceMinor,
      expiresAt,
      planId: target.id,
      thenExpire: pastGrace(expiresAt, settings.graceHours, now),
    };
  }
  if (!pastGrace(state.expiresAt, settings.graceHours, now))
    return { action: 'grace', blockAt: new Date(state.expiresAt.getTime() + settings.graceHours * 3_600_000) };
  return { action: 'expire' };
}

/** The money side of a plan change made now. */
export interface PlanChangeNow {
  /** positive: a charge of the difference; negative: a credit of it; zero: nothing */
  netMinor: bigint;
  newPartMinor: bigint;
  oldUnusedMinor: bigint;
  remainingMs: number;
}

/**
 * Change Plan "now" mid-period: the new price pro rata for the time left to the expiry, minus the
 * unused part of the old one. The expiry does not move. Nothing is owed when there is no time left
 * (inactive or expired customers just switch).
 */
export function proRataChange(oldPlan: PlanTerms, newPlan: PlanTerms, expiresAt: Date | null, now: Date): PlanChangeNow {
  const remainingMs = expiresAt ? Math.max(0, expiresAt.getTime() - now.getTime()) : 0;
  if (remainingMs === 0) return { netMinor: 0n, newPartMinor: 0n, oldUnusedMinor: 0n, remainingMs };
  const part = (p: PlanTerms) => {
    const len = periodEnd(now, p).getTime() - now.getTime();
    return roundedShare(p.priceMinor, Math.min(remainingMs, len), len);
  };
  const newPart = part(newPlan);
  const oldUnused = part(oldPlan);
  return { netMinor: newPart - oldUnused, newPartMinor: newPart, oldUnusedMinor: oldUnused, remainingMs };
}

/** price × num / den, rounded half up, in minor units. */
function roundedShare(price: bigint, num: number, den: number): bigint {
  const n = BigInt(Math.round(num));
  const d = BigInt(Math.round(den));
  return (price * n * 2n + d) / (2n * d);
}

/** Words for what a payment will do, shown before staff confirm. */
export function describePayment(
  outcome: PaymentOutcome,
  state: AccountState,
  price: bigint,
  format: (minor: bigint) => string,
  formatDate: (d: Date) => string,
): string {
  if (state.status === 'suspended') return 'Suspended: credited, the suspension stays';
  if (outcome.periods === 0) {
    const short = price - outcome.balanceAfterMinor;
    return outcome.balanceAfterMinor < 0n
      ? `Pays off part of the debt; ${format(-outcome.balanceAfterMinor)} still owed, nothing renewed`
      : `Short of the price by ${format(short)}: kept as credit, nothing renewed`;
  }
  const credit = outcome.balanceAfterMinor > 0n ? `; ${format(outcome.balanceAfterMinor)} stays as credit` : '';
  return `Renews ${outcome.periods} period${outcome.periods === 1 ? '' : 's'}, to ${formatDate(outcome.expiresAt!)}${credit}`;
}
