import { expect } from 'chai';
import type { CustomerStatus } from '@mtandao/protocol';
import {
  activation,
  amountDue,
  applyPayment,
  covers,
  decideAtExpiry,
  describePayment,
  extension,
  pastGrace,
  proRataChange,
  registration,
  type AccountState,
  type PlanTerms,
} from '../src/domain/billing.ts';
import { formatAmount } from '../src/domain/money.ts';
import { csvCell } from '../src/lib/csv.ts';
import { formatWhen } from '../src/services/billing.service.ts';

// The billing rules of SPEC section 11, one row per rule. Amounts in minor units (KES cents).
const NOW = new Date('2026-12-01T10:00:00Z');
const DAY = 86_400_000;
const at = (days: number) => new Date(NOW.getTime() + days * DAY);
const MONTHLY: PlanTerms = { id: '1', priceMinor: 150_000n, validityCount: 30, validityUnit: 'days' };
const PREMIUM: PlanTerms = { id: '2', priceMinor: 300_000n, validityCount: 30, validityUnit: 'days' };
const account = (status: CustomerStatus, balance: bigint, expiresInDays: number | null): AccountState => ({
  status,
  balanceMinor: balance,
  expiresAt: expiresInDays === null ? null : at(expiresInDays),
});

describe('billing rules (SPEC section 11)', () => {
  describe('a payment credits, then renews only while the balance covers the price', () => {
    const rows: {
      name: string;
      state: AccountState;
      amount: bigint;
      periods: number;
      balance: bigint;
      expiresInDays: number | null;
      status: CustomerStatus;
      next?: PlanTerms;
    }[] = [
      {
        name: 'full payment, expired: one period from now',
        state: account('expired', 0n, -3),
        amount: 150_000n,
        periods: 1,
        balance: 0n,
        expiresInDays: 30,
        status: 'active',
      },
      {
        name: 'full payment, active: one period from the current expiry',
        state: account('active', 0n, 5),
        amount: 150_000n,
        periods: 1,
        balance: 0n,
        expiresInDays: 35,
        status: 'active',
      },
      {
        name: 'full payment, inactive: one period from now',
        state: account('inactive', 0n, null),
        amount: 150_000n,
        periods: 1,
        balance: 0n,
        expiresInDays: 30,
        status: 'active',
      },
      {
        name: 'partial payment (KES 1): credit only, nothing renewed',
        state: account('expired', 0n, -3),
        amount: 100n,
        periods: 0,
        balance: 100n,
        expiresInDays: -3,
        status: 'expired',
      },
      {
        name: 'partial payment completing an earlier credit renews',
        state: account('expired', 100_000n, -3),
        amount: 50_000n,
        periods: 1,
        balance: 0n,
        expiresInDays: 30,
        status: 'active',
      },
      { name: 'double payment: two periods', state: account('active', 0n, 5), amount: 300_000n, periods: 2, balance: 0n, expiresInDays: 65, status: 'active' },
      {
        name: 'advance payment with change: one period and the rest as credit',
        state: account('active', 0n, 5),
        amount: 170_000n,
        periods: 1,
        balance: 20_000n,
        expiresInDays: 35,
        status: 'active',
      },
      {
        name: 'debt is paid first: a price-sized payment on a debt renews nothing',
        state: account('expired', -50_000n, -3),
        amount: 150_000n,
        periods: 0,
        balance: 100_000n,
        expiresInDays: -3,
        status: 'expired',
      },
      {
        name: 'debt paid off and a period bought',
        state: account('expired', -50_000n, -3),
        amount: 200_000n,
        periods: 1,
        balance: 0n,
        expiresInDays: 30,
        status: 'active',
      },
      {
        name: 'suspended: credited, the suspension stays, nothing renewed',
        state: account('suspended', 0n, 10),
        amount: 150_000n,
        periods: 0,
        balance: 150_000n,
        expiresInDays: 10,
        status: 'suspended',
      },
      {
        name: 'a scheduled next plan is renewed onto, at its price',
        state: account('expired', 0n, -1),
        amount: 300_000n,
        periods: 1,
        balance: 0n,
        expiresInDays: 30,
        status: 'active',
        next: PREMIUM,
      },
    ];
    for (const r of rows) {
      it(r.name, () => {
        const out = applyPayment(r.state, MONTHLY, r.amount, NOW, { nextPlan: r.next ?? null });
        expect(out.periods, 'periods').to.equal(r.periods);
        expect(out.balanceAfterMinor, 'balance').to.equal(r.balance);
        expect(out.expiresAt?.getTime() ?? null, 'expiry').to.equal(r.expiresInDays === null ? null : at(r.expiresInDays).getTime());
        expect(out.status, 'status').to.equal(r.status);
        expect(
          out.charges.reduce((s, c) => s + c.amountMinor, 0n),
          'charged',
        ).to.equal(r.state.balanceMinor + r.amount - r.balance);
        if (r.next) expect(out.planId).to.equal(r.next.id);
      });
    }

    it('each period charged is contiguous with the one before', () => {
      const out = applyPayment(account('active', 0n, 5), MONTHLY, 450_000n, NOW);
      expect(out.charges.map((c) => [c.periodStart.getTime(), c.periodEnd.getTime()])).to.deep.equal([
        [at(5).getTime(), at(35).getTime()],
        [at(35).getTime(), at(65).getTime()],
        [at(65).getTime(), at(95).getTime()],
      ]);
    });

    it('during the grace hours an active customer renews from the expiry; past them, from now', () => {
      const state = { status: 'active' as const, balanceMinor: 0n, expiresAt: new Date(NOW.getTime() - 2 * 3_600_000) };
      expect(applyPayment(state, MONTHLY, 150_000n, NOW, { graceHours: 6 }).expiresAt!.getTime()).to.equal(state.expiresAt.getTime() + 30 * DAY);
      expect(applyPayment(state, MONTHLY, 150_000n, NOW, { graceHours: 1 }).expiresAt!.getTime()).to.equal(NOW.getTime() + 30 * DAY);
    });

    it('months are calendar months (31 Jan → 28 Feb → 28 Mar)', () => {
      const plan: PlanTerms = { id: '3', priceMinor: 100n, validityCount: 1, validityUnit: 'months' };
      const out = applyPayment({ status: 'active', balanceMinor: 0n, expiresAt: new Date('2027-01-31T00:00:00Z') }, plan, 200n, NOW);
      expect(out.charges.map((c) => c.periodEnd.toISOString().slice(0, 10))).to.deep.equal(['2027-02-28', '2027-03-28']);
    });

    it('refuses a payment of zero', () => {
      expect(() => applyPayment(account('active', 0n, 1), MONTHLY, 0n, NOW)).to.throw(RangeError);
    });
  });

  describe('registration', () => {
    const rows: {
      name: string;
      fee: bigint | null;
      custom: bigint | null;
      autoActivate: boolean;
      lines: [string, string, bigint][];
      status: CustomerStatus;
    }[] = [
      {
        name: 'plan price only: the payment covers the first period',
        fee: null,
        custom: null,
        autoActivate: true,
        lines: [
          ['credit', 'payment', 150_000n],
          ['charge', 'plan', 150_000n],
        ],
        status: 'active',
      },
      {
        name: 'installation fee + first period',
        fee: 200_000n,
        custom: null,
        autoActivate: true,
        lines: [
          ['credit', 'payment', 350_000n],
          ['charge', 'installation', 200_000n],
          ['charge', 'plan', 150_000n],
        ],
        status: 'active',
      },
      {
        name: 'custom amount replaces the price for the first period (no debt)',
        fee: null,
        custom: 75_050n,
        autoActivate: true,
        lines: [
          ['credit', 'payment', 75_050n],
          ['charge', 'plan', 75_050n],
        ],
        status: 'active',
      },
      { name: 'custom amount of zero: a free first period, nothing paid', fee: null, custom: 0n, autoActivate: true, lines: [], status: 'active' },
      { name: 'Auto Activate No: no charge, no payment (even with a fee)', fee: 200_000n, custom: null, autoActivate: false, lines: [], status: 'inactive' },
    ];
    for (const r of rows) {
      it(r.name, () => {
        const out = registration({ plan: MONTHLY, autoActivate: r.autoActivate, installationFeeMinor: r.fee, customAmountMinor: r.custom, now: NOW });
        expect(out.lines.map((l) => [l.side, l.kind, l.amountMinor])).to.deep.equal(r.lines);
        expect(out.balanceAfterMinor).to.equal(0n);
        expect(out.status).to.equal(r.status);
        expect(out.expiresAt?.getTime() ?? null).to.equal(r.autoActivate ? at(30).getTime() : null);
      });
    }
  });

  describe('activate charges the period when it starts', () => {
    const rows: { name: string; state: AccountState; admin: boolean; onCredit: boolean; ok: boolean | string; balance?: bigint; onCreditUsed?: boolean }[] = [
      {
        name: 'with cover: charged from the balance',
        state: account('inactive', 150_000n, null),
        admin: false,
        onCredit: false,
        ok: true,
        balance: 0n,
        onCreditUsed: false,
      },
      { name: 'without cover, staff: refused', state: account('expired', 0n, -2), admin: false, onCredit: false, ok: 'needs-cover' },
      {
        name: 'without cover, staff asking "on credit": the balance goes negative',
        state: account('expired', 0n, -2),
        admin: false,
        onCredit: true,
        ok: true,
        balance: -150_000n,
        onCreditUsed: true,
      },
      {
        name: 'without cover, admin: allowed, visible as debt',
        state: account('inactive', 50_000n, null),
        admin: true,
        onCredit: false,
        ok: true,
        balance: -100_000n,
        onCreditUsed: true,
      },
      { name: 'already active: refused', state: account('active', 0n, 3), admin: true, onCredit: false, ok: 'already-active' },
      { name: 'suspended: refused (unsuspend instead)', state: account('suspended', 0n, 3), admin: true, onCredit: false, ok: 'suspended' },
      {
        name: 'paid time left (expiry ahead): no charge',
        state: account('expired', 0n, 4),
        admin: false,
        onCredit: false,
        ok: true,
        balance: 0n,
        onCreditUsed: false,
      },
    ];
    for (const r of rows) {
      it(r.name, () => {
        const out = activation(r.state, MONTHLY, NOW, { admin: r.admin, onCredit: r.onCredit });
        if (r.ok !== true) {
          expect(out).to.deep.equal({ ok: false, reason: r.ok });
          return;
        }
        expect(out.ok).to.equal(true);
        if (!out.ok) return;
        expect(out.balanceAfterMinor).to.equal(r.balance);
        expect(out.onCredit).to.equal(r.onCreditUsed);
      });
    }
  });

  describe('extend adds time without a charge', () => {
    it('from the current expiry when it is ahead', () =>
      expect(extension(account('active', 0n, 5), 3, 'days', NOW)).to.deep.equal({ ok: true, expiresAt: at(8), status: 'active' }));
    it('from now when expired, and reactivates', () =>
      expect(extension(account('expired', 0n, -5), 3, 'days', NOW)).to.deep.equal({ ok: true, expiresAt: at(3), status: 'active' }));
    it('not for inactive or suspended customers', () => {
      expect(extension(account('inactive', 0n, null), 3, 'days', NOW).ok).to.equal(false);
      expect(extension(account('suspended', 0n, 2), 3, 'days', NOW).ok).to.equal(false);
    });
  });

  describe('at expiry: auto-renew, grace, expire', () => {
    const on = { autoRenew: true, graceHours: 0 };
    const rows: {
      name: string;
      state: AccountState;
      settings: { autoRenew: boolean; graceHours: number };
      action: string;
      balance?: bigint;
      expiresAt?: Date;
      planId?: string;
      next?: PlanTerms;
      then?: boolean;
    }[] = [
      {
        name: 'balance covers the price: renews from the old expiry',
        state: account('active', 150_000n, 0),
        settings: on,
        action: 'renew',
        balance: 0n,
        expiresAt: at(30),
      },
      {
        name: 'balance covers the scheduled plan: renews onto it',
        state: account('active', 300_000n, 0),
        settings: on,
        action: 'renew',
        balance: 0n,
        expiresAt: at(30),
        planId: '2',
        next: PREMIUM,
      },
      { name: 'balance short: expires', state: account('active', 149_999n, 0), settings: on, action: 'expire' },
      {
        name: 'auto-renew off: expires even with cover',
        state: account('active', 150_000n, 0),
        settings: { autoRenew: false, graceHours: 0 },
        action: 'expire',
      },
      { name: 'within the grace hours: keeps service', state: account('active', 0n, 0), settings: { autoRenew: true, graceHours: 2 }, action: 'grace' },
      {
        name: 'down for 65 days with cover for 5: catches up 3 periods from the old expiry, the last ending after now',
        state: account('active', 750_000n, -65),
        settings: on,
        action: 'renew',
        balance: 300_000n,
        expiresAt: at(25),
      },
      {
        name: 'down for 65 days with cover for 2: renews 2 periods, still past, then expires',
        state: account('active', 300_000n, -65),
        settings: on,
        action: 'renew',
        balance: 0n,
        expiresAt: at(-5),
        then: true,
      },
      {
        name: 'past the grace hours: expires',
        state: { status: 'active', balanceMinor: 0n, expiresAt: new Date(NOW.getTime() - 3 * 3_600_000) },
        settings: { autoRenew: true, graceHours: 2 },
        action: 'expire',
      },
      { name: 'not yet due: nothing', state: account('active', 0n, 1), settings: on, action: 'none' },
      { name: 'not active: nothing', state: account('suspended', 500_000n, -1), settings: on, action: 'none' },
    ];
    for (const r of rows) {
      it(r.name, () => {
        const d = decideAtExpiry(r.state, MONTHLY, r.settings, NOW, r.next ?? null);
        expect(d.action).to.equal(r.action);
        if (d.action === 'renew') {
          expect(d.balanceAfterMinor).to.equal(r.balance);
          expect(d.expiresAt.getTime()).to.equal(r.expiresAt!.getTime());
          expect(d.planId).to.equal(r.planId ?? MONTHLY.id);
          expect(d.thenExpire).to.equal(r.then ?? false);
          // the periods follow on without a gap, from the old expiry to the new one
          expect(d.charges[0]!.periodStart.getTime()).to.equal(r.state.expiresAt!.getTime());
          for (let i = 1; i < d.charges.length; i++) expect(d.charges[i]!.periodStart.getTime()).to.equal(d.charges[i - 1]!.periodEnd.getTime());
          expect(d.charges.at(-1)!.periodEnd.getTime()).to.equal(d.expiresAt.getTime());
        }
      });
    }
    it('months keep their day: the i-th period ends i months after the old expiry (31 Jan, 28 Feb, 31 Mar)', () => {
      const monthly: PlanTerms = { id: '7', priceMinor: 100_000n, validityCount: 1, validityUnit: 'months' };
      const d = decideAtExpiry(
        { status: 'active', balanceMinor: 500_000n, expiresAt: new Date('2026-01-31T12:00:00Z') },
        monthly,
        on,
        new Date('2026-03-15T00:00:00Z'),
      );
      expect(d.action).to.equal('renew');
      if (d.action !== 'renew') return;
      expect(d.charges.map((c) => c.periodEnd.toISOString())).to.deep.equal(['2026-02-28T12:00:00.000Z', '2026-03-31T12:00:00.000Z']);
    });
    it('grace ends graceHours after the expiry', () => {
      const d = decideAtExpiry(account('active', 0n, 0), MONTHLY, { autoRenew: true, graceHours: 5 }, NOW);
      expect(d).to.deep.equal({ action: 'grace', blockAt: new Date(NOW.getTime() + 5 * 3_600_000) });
      expect(pastGrace(NOW, 5, new Date(NOW.getTime() + 5 * 3_600_000))).to.equal(true);
    });
  });

  describe('change plan now: the new price pro rata for the time left, minus the unused old part', () => {
    const rows: { name: string; from: PlanTerms; to: PlanTerms; expiresInDays: number | null; net: bigint }[] = [
      { name: 'upgrade half-way: half the difference charged', from: MONTHLY, to: PREMIUM, expiresInDays: 15, net: 75_000n },
      { name: 'downgrade half-way: half the difference credited', from: PREMIUM, to: MONTHLY, expiresInDays: 15, net: -75_000n },
      { name: 'same price: nothing', from: MONTHLY, to: { ...MONTHLY, id: '9' }, expiresInDays: 10, net: 0n },
      { name: 'no time left: nothing', from: MONTHLY, to: PREMIUM, expiresInDays: -1, net: 0n },
      { name: 'never activated: nothing', from: MONTHLY, to: PREMIUM, expiresInDays: null, net: 0n },
    ];
    for (const r of rows) {
      it(r.name, () => expect(proRataChange(r.from, r.to, r.expiresInDays === null ? null : at(r.expiresInDays), NOW).netMinor).to.equal(r.net));
    }
  });

  describe('what the account shows', () => {
    it('due is max(price − balance, 0)', () => {
      expect(amountDue(-20_000n, 150_000n)).to.equal(170_000n);
      expect(amountDue(50_000n, 150_000n)).to.equal(100_000n);
      expect(amountDue(400_000n, 150_000n)).to.equal(0n);
    });
    it('covers counts whole periods of the balance', () => {
      expect(covers(account('active', 310_000n, 5), MONTHLY, NOW)).to.deep.equal({ periods: 2, until: at(65) });
      expect(covers(account('active', 10_000n, 5), MONTHLY, NOW)).to.deep.equal({ periods: 0, until: null });
    });
    it('the preview message says what the payment buys', () => {
      const f = (m: bigint) => formatAmount(m);
      const s1 = account('active', 0n, 5);
      expect(describePayment(applyPayment(s1, MONTHLY, 170_000n, NOW), s1, MONTHLY.priceMinor, f, formatWhen)).to.equal(
        `Renews 1 period, to ${formatWhen(at(35))}; 200.00 stays as credit`,
      );
      const s2 = account('expired', 0n, -1);
      expect(describePayment(applyPayment(s2, MONTHLY, 120_000n, NOW), s2, MONTHLY.priceMinor, f, formatWhen)).to.equal(
        'Short of the price by 300.00: kept as credit, nothing renewed',
      );
      const s3 = account('suspended', 0n, 3);
      expect(describePayment(applyPayment(s3, MONTHLY, 150_000n, NOW), s3, MONTHLY.priceMinor, f, formatWhen)).to.equal(
        'Suspended: credited, the suspension stays',
      );
    });
  });

  describe('CSV cells', () => {
    const rows: [string | null, string][] = [
      ['=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
      ['+254712', "'+254712"],
      ['-cmd', "'-cmd"],
      ['@SUM(A1)', "'@SUM(A1)"],
      ['-1500.00', '-1500.00'],
      ['Jane, "JJ"', '"Jane, ""JJ"""'],
      [null, ''],
    ];
    for (const [input, output] of rows) it(`${JSON.stringify(input)} → ${output}`, () => expect(csvCell(input)).to.equal(output));
  });
});
