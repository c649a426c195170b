import { expect } from 'chai';
import { ApiClient, expectStatus } from './helpers/client.ts';
import { ADMIN_PASSWORD, startTestController } from './helpers/controller.ts';
import { Fixtures } from './helpers/fixtures.ts';

type Body = Record<string, unknown>;
type Entry = {
  id: string;
  side: string;
  kind: string;
  amount: string;
  method: string | null;
  balanceAfter: string;
  receiptNumber: string | null;
  reversesId: string | null;
  reversedById: string | null;
  customerId: string | null;
  customerUsername: string;
  staff: string | null;
};
type ErrorBody = { error: { message: string; field?: string; code: string } };
const DAY = 86_400_000;

describe("the customer's account (ledger, SPEC section 11)", () => {
  let controller: Awaited<ReturnType<typeof startTestController>>;
  let admin: ApiClient;
  let staff: ApiClient;
  let fx: Fixtures;
  let world: Awaited<ReturnType<Fixtures['world']>>;
  let ip = 10;

  before(async () => {
    controller = await startTestController();
    admin = await new ApiClient(controller.url).login('admin', ADMIN_PASSWORD);
    expectStatus(await admin.post('/users', { username: 'cashier1', password: 'cashier1-password', role: 'staff' }), 201);
    staff = await new ApiClient(controller.url).login('cashier1', 'cashier1-password');
    fx = new Fixtures(admin);
    world = await fx.world();
  });
  after(async () => controller.stop());

  /** A PPPoE customer on the KES 1500 / 30 days plan, added by staff. */
  const addCustomer = async (extra: Body = {}): Promise<Body> =>
    expectStatus(
      await staff.post('/customers', fx.customerBody(world.pppoe.id as string, { networkId: world.pppoeNetworkId, ipAddress: `10.64.9.${ip++}`, ...extra })),
      201,
    ) as Body;
  /** Moves a customer's clock: expired `days` ago. */
  const expire = async (id: unknown, daysAgo = 1) =>
    controller.services.db.exec(`UPDATE customers SET status = 'expired', expires_at = now() - make_interval(days => $2) WHERE id = $1`, [id, daysAgo]);
  const entries = async (id: unknown) => (expectStatus(await admin.get(`/customers/${id}/payments`), 200) as { items: Entry[] }).items;
  const customer = async (id: unknown) => expectStatus(await admin.get(`/customers/${id}`), 200) as Body;
  const pay = (as: ApiClient, id: unknown, body: Body) => as.post(`/customers/${id}/payments`, body);

  describe('payments through the rules', () => {
    it('KES 1 on an expired customer is credit only: nothing renewed', async () => {
      const c = await addCustomer();
      await expire(c.id);
      const res = expectStatus(await pay(staff, c.id, { method: 'cash', amount: '1' }), 201) as {
        payment: Entry;
        customer: Body;
        periods: number;
        message: string;
      };
      expect(res.periods).to.equal(0);
      expect(res.customer).to.include({ status: 'expired', balance: '1.00', due: '1499.00' });
      expect(res.payment).to.include({ side: 'credit', kind: 'payment', amount: '1.00', method: 'cash', staff: 'cashier1' });
      expect(res.payment.receiptNumber).to.match(/^R\d{6,}$/);
      expect(res.message).to.match(/kept as credit/);
    });

    it('the rest of the price renews one period from now, and the router is updated', async () => {
      const c = await addCustomer();
      await expire(c.id, 3);
      expectStatus(await pay(staff, c.id, { method: 'cash', amount: '500' }), 201);
      const before = Date.now();
      const res = expectStatus(await pay(staff, c.id, { method: 'mpesa', amount: '1000', reference: 'QX12' }), 201) as { customer: Body; periods: number };
      expect(res.periods).to.equal(1);
      expect(res.customer).to.include({ status: 'active', balance: '0.00' });
      expect(Date.parse(res.customer.expiresAt as string) - before).to.be.closeTo(30 * DAY, 60_000);
      expect((res.customer.latestJob as Body).reason).to.match(/renewed by payment/);
      const kinds = (await entries(c.id)).map((e) => [e.side, e.kind, e.amount, e.balanceAfter]);
      expect(kinds.slice(0, 3)).to.deep.equal([
        ['charge', 'plan', '1500.00', '0.00'],
        ['credit', 'payment', '1000.00', '1500.00'],
        ['credit', 'payment', '500.00', '500.00'],
      ]);
    });

    it('a double payment on an active customer buys two periods from the current expiry', async () => {
      const c = await addCustomer();
      const res = expectStatus(await pay(staff, c.id, { method: 'bank', amount: '3000' }), 201) as { customer: Body; periods: number };
      expect(res.periods).to.equal(2);
      expect(Date.parse(res.customer.expiresAt as string) - Date.parse(c.expiresAt as string)).to.be.closeTo(60 * DAY, 5000);
    });

    it('a suspended customer is credited and stays suspended', async () => {
      const c = await addCustomer();
      expectStatus(await staff.post(`/customers/${c.id}/suspend`), 200);
      const res = expectStatus(await pay(staff, c.id, { method: 'cash', amount: '1500' }), 201) as { customer: Body; periods: number };
      expect(res.periods).to.equal(0);
      expect(res.customer).to.include({ status: 'suspended', balance: '1500.00', expiresAt: c.expiresAt });
    });

    it('previews what a payment will buy, and shows the account', async () => {
      const c = await addCustomer();
      await expire(c.id);
      const p1 = expectStatus(await staff.get(`/customers/${c.id}/payment-preview?amount=1200.00`), 200) as Body;
      expect(p1).to.include({
        balanceBefore: '0.00',
        balanceAfter: '1200.00',
        periods: 0,
        statusAfter: 'expired',
        message: 'Short of the price by 300.00: kept as credit, nothing renewed',
      });
      const p2 = expectStatus(await staff.get(`/customers/${c.id}/payment-preview?amount=1700`), 200) as Body;
      expect(p2).to.include({ periods: 1, statusAfter: 'active', balanceAfter: '200.00' });
      expect(p2.message).to.match(/^Renews 1 period, to \d{1,2} \w{3} \d{4} \d\d:\d\d; 200\.00 stays as credit$/);
      expect((await staff.get(`/customers/${c.id}/payment-preview?amount=abc`)).status).to.equal(422);
      expect((await entries(c.id)).length).to.equal(2); // nothing written by a preview
      expectStatus(await pay(staff, c.id, { method: 'cash', amount: '1700' }), 201);
      const account = expectStatus(await staff.get(`/customers/${c.id}/account`), 200) as Body;
      expect(account).to.deep.include({
        balance: '200.00',
        price: '1500.00',
        due: '1300.00',
        status: 'active',
        nextPlan: null,
        covers: { periods: 0, until: null },
      });
      expectStatus(await pay(admin, c.id, { amount: '1500', kind: 'adjustment' }), 201);
      const covered = expectStatus(await staff.get(`/customers/${c.id}/account`), 200) as Body;
      expect(covered).to.deep.include({ balance: '1700.00', due: '0.00' });
      expect((covered.covers as Body).periods).to.equal(1);
    });

    it('Add Debt is a charge without a method; an installation fee is paid (charge and payment); adjustments are admin-only', async () => {
      const c = await addCustomer();
      expectStatus(await pay(staff, c.id, { amount: '200', kind: 'debt', note: 'router damaged' }), 201);
      const inst = expectStatus(await pay(staff, c.id, { method: 'cash', amount: '2000', kind: 'installation' }), 201) as { payment: Entry };
      expect(inst.payment).to.include({ kind: 'payment', amount: '2000.00' });
      expect(inst.payment.receiptNumber).to.match(/^R/);
      expect((await pay(staff, c.id, { amount: '50', kind: 'adjustment' })).status).to.equal(403);
      expectStatus(await pay(admin, c.id, { amount: '50', kind: 'adjustment', note: 'goodwill' }), 201);
      expect(await customer(c.id)).to.include({ balance: '-150.00', status: 'active' });
      const bad = await pay(staff, c.id, { method: 'cash', amount: '-5' });
      expect(bad.status).to.equal(422);
      expect((bad.body as ErrorBody).error.field).to.equal('amount');
      expect((await pay(staff, c.id, { method: 'cash', amount: '0' })).status).to.equal(422);
    });

    it('one payment per request even when many arrive at once for one customer: balances add up', async () => {
      const c = await addCustomer();
      await expire(c.id);
      await Promise.all(Array.from({ length: 8 }, () => pay(staff, c.id, { method: 'cash', amount: '750' })).map(async (p) => expectStatus(await p, 201)));
      const after = await customer(c.id);
      // 8 × 750 = 6000 = four periods
      expect(after).to.include({ balance: '0.00', status: 'active' });
      const list = await entries(c.id);
      expect(list.filter((e) => e.kind === 'plan' && e.side === 'charge').length).to.equal(5); // registration + 4
      expect(new Set(list.filter((e) => e.receiptNumber).map((e) => e.receiptNumber)).size).to.equal(9);
    });
  });

  describe('activate, extend, delete', () => {
    it('Activate without cover: 409 for staff, allowed "on credit" (debt), and for admins', async () => {
      const c = await addCustomer({ autoActivate: false });
      const refused = await staff.post(`/customers/${c.id}/activate`);
      expect(refused.status).to.equal(409);
      expect((refused.body as ErrorBody).error.message).to.equal('The balance does not cover the plan price: record a payment, or activate on credit');
      const onCredit = expectStatus(await staff.post(`/customers/${c.id}/activate`, { onCredit: true }), 200) as Body;
      expect(onCredit).to.include({ status: 'active', balance: '-1500.00', due: '3000.00' });
      const audit = expectStatus(await admin.get(`/audit?entity=customer&entityId=${c.id}`), 200) as { items: Body[] };
      expect(audit.items.find((a) => a.action === 'customer.activate')!.details).to.include({ onCredit: true, charged: '1500.00' });
      const d = await addCustomer({ autoActivate: false });
      expect(expectStatus(await admin.post(`/customers/${d.id}/activate`), 200)).to.include({ status: 'active', balance: '-1500.00' });
    });

    it('Activate with cover charges the period from the balance (no free period)', async () => {
      const c = await addCustomer({ autoActivate: false });
      expectStatus(await pay(staff, c.id, { method: 'cash', amount: '1500' }), 201);
      // an inactive customer's payment renews at once
      expect(await customer(c.id)).to.include({ status: 'active', balance: '0.00' });
      await expire(c.id);
      expectStatus(await pay(admin, c.id, { amount: '1500', kind: 'adjustment' }), 201);
      expect(expectStatus(await staff.post(`/customers/${c.id}/activate`), 200)).to.include({ status: 'active', balance: '0.00' });
    });

    it('Extend Expiry is admin-only, needs a reason, and is audited with it', async () => {
      const c = await addCustomer();
      expect((await staff.post(`/customers/${c.id}/extend`, { count: 2, reason: 'outage' })).status).to.equal(403);
      const noReason = await admin.post(`/customers/${c.id}/extend`, { count: 2 });
      expect(noReason.status).to.equal(422);
      expect((noReason.body as ErrorBody).error.field).to.equal('reason');
      const ext = expectStatus(await admin.post(`/customers/${c.id}/extend`, { count: 2, unit: 'days', reason: 'fibre cut in Kasarani' }), 200) as Body;
      expect(Date.parse(ext.expiresAt as string) - Date.parse(c.expiresAt as string)).to.be.closeTo(2 * DAY, 5000);
      expect(ext.balance).to.equal('0.00');
      const audit = expectStatus(await admin.get(`/audit?entity=customer&entityId=${c.id}`), 200) as { items: Body[] };
      expect(audit.items.find((a) => a.action === 'customer.extend')!.details).to.include({ reason: 'fibre cut in Kasarani' });
    });

    it('Delete is admin-only; the account history survives it', async () => {
      const c = await addCustomer();
      expect((await staff.delete(`/customers/${c.id}`)).status).to.equal(403);
      expectStatus(await admin.delete(`/customers/${c.id}`), 200);
      const list = expectStatus(await admin.get(`/payments?pageSize=200`), 200) as { items: Entry[] };
      const kept = list.items.find((e) => e.customerUsername === c.username);
      expect(kept).to.include({ customerId: null, kind: 'payment', amount: '1500.00' });
      const rev = await admin.post(`/payments/${kept!.id}/reverse`, { reason: 'test' });
      expect(rev.status).to.equal(409);
    });
  });

  describe('reversals and receipts', () => {
    it('an admin reverses a payment with a reason: the renewal stays and the balance goes negative (debt)', async () => {
      const c = await addCustomer();
      const paid = expectStatus(await pay(staff, c.id, { method: 'cheque', amount: '1500', reference: 'CHQ 0042' }), 201) as { payment: Entry; customer: Body };
      expect((await staff.post(`/payments/${paid.payment.id}/reverse`, { reason: 'bounced' })).status).to.equal(403);
      const noReason = await admin.post(`/payments/${paid.payment.id}/reverse`, {});
      expect(noReason.status).to.equal(422);
      expect((noReason.body as ErrorBody).error.field).to.equal('reason');
      const rev = expectStatus(await admin.post(`/payments/${paid.payment.id}/reverse`, { reason: 'cheque bounced' }), 201) as Entry;
      expect(rev).to.include({ side: 'charge', kind: 'reversal', amount: '1500.00', method: 'cheque', reversesId: paid.payment.id, balanceAfter: '-1500.00' });
      expect(await customer(c.id)).to.include({ balance: '-1500.00', expiresAt: paid.customer.expiresAt, status: 'active' });
      expect((await admin.post(`/payments/${paid.payment.id}/reverse`, { reason: 'again' })).status).to.equal(409);
      expect((await admin.post(`/payments/${rev.id}/reverse`, { reason: 'undo' })).status).to.equal(409);
      const original = (await entries(c.id)).find((e) => e.id === paid.payment.id)!;
      expect(original.reversedById).to.equal(rev.id);
      const receipt = expectStatus(await staff.get(`/payments/${paid.payment.id}/receipt`), 200) as Body;
      expect(receipt).to.deep.include({
        receiptNumber: paid.payment.receiptNumber,
        amount: '1500.00',
        method: 'cheque',
        reference: 'CHQ 0042',
        staff: 'cashier1',
        reversed: true,
        company: 'Mtandao ISP',
      });
      expect(receipt.customer).to.deep.equal({ name: c.fullName, username: c.username, accountNumber: c.accountNumber });
      expect((await staff.get(`/payments/${rev.id}/receipt`)).status).to.equal(404);
      const audit = expectStatus(await admin.get(`/audit?entity=customer&entityId=${c.id}`), 200) as { items: Body[] };
      expect(audit.items.find((a) => a.action === 'ledger.reverse')!.details).to.include({ reason: 'cheque bounced' });
    });

    it('ledger entries refuse UPDATE and DELETE in the database itself', async () => {
      const c = await addCustomer();
      const [e] = await entries(c.id);
      const update = await controller.services.db.exec('UPDATE ledger_entries SET amount_minor = 1 WHERE id = $1', [e!.id]).then(
        () => 'changed',
        (err: Error) => err.message,
      );
      expect(update).to.match(/append-only/);
      const del = await controller.services.db.exec('DELETE FROM ledger_entries WHERE id = $1', [e!.id]).then(
        () => 'deleted',
        (err: Error) => err.message,
      );
      expect(del).to.match(/append-only/);
      const unlink = await controller.services.db.exec('UPDATE ledger_entries SET customer_id = NULL WHERE id = $1', [e!.id]).then(
        () => 'unlinked',
        (err: Error) => err.message,
      );
      expect(unlink).to.match(/append-only/);
    });
  });

  describe('GET /payments', () => {
    it('filters by method, staff, customer and dates, with totals over the filter', async () => {
      const c = await addCustomer({ payment: { method: 'bank' } });
      const p = expectStatus(await pay(staff, c.id, { method: 'mpesa', amount: '99.50' }), 201) as { payment: Entry };
      expectStatus(await admin.post(`/payments/${p.payment.id}/reverse`, { reason: 'wrong account' }), 201);
      const mine = expectStatus(await admin.get(`/payments?customerId=${c.id}`), 200) as {
        items: Entry[];
        total: number;
        totals: { count: number; amount: string; byMethod: Body };
      };
      expect(mine.items.map((e) => [e.kind, e.method, e.amount])).to.deep.equal([
        ['reversal', 'mpesa', '99.50'],
        ['payment', 'mpesa', '99.50'],
        ['payment', 'bank', '1500.00'],
      ]);
      expect(mine.totals).to.deep.equal({ count: 2, amount: '1500.00', byMethod: { cash: '0.00', mpesa: '0.00', bank: '1500.00', cheque: '0.00' } });
      const byMethod = expectStatus(await admin.get(`/payments?customerId=${c.id}&method=bank`), 200) as { total: number };
      expect(byMethod.total).to.equal(1);
      const me = expectStatus(await staff.get('/auth/me'), 200) as { user?: Body; id?: string };
      const staffId = (me.user?.id ?? me.id) as string;
      const byStaff = expectStatus(await admin.get(`/payments?staffId=${staffId}&customerId=${c.id}`), 200) as { total: number };
      expect(byStaff.total).to.equal(2); // the registration payment and the M-Pesa one (the reversal is the admin's)
      const future = expectStatus(await admin.get(`/payments?from=2999-01-01`), 200) as { total: number; totals: { count: number } };
      expect(future).to.deep.include({ total: 0 });
      expect(future.totals.count).to.equal(0);
      const badDate = await admin.get('/payments?from=yesterday-ish');
      expect(badDate.status).to.equal(422);
      expect((badDate.body as ErrorBody).error.field).to.equal('from');
      expect((await admin.get('/payments?method=bitcoin')).status).to.equal(422);
    });

    it('exports CSV with formula-looking cells neutralised', async () => {
      const c = await addCustomer({ fullName: '=HYPERLINK("http://evil")', payment: { method: 'cash', reference: '+254700' } });
      const res = await admin.get(`/payments?customerId=${c.id}&format=csv`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^text\/csv/);
      const text = res.body as unknown as string;
      const lines = text.trim().split('\r\n');
      expect(lines[0]).to.equal('Date (UTC),Receipt,Customer,Username,Method,Kind,Amount,Balance after,Reference,Staff,Note');
      expect(lines).to.have.length(2);
      expect(lines[1]).to.contain(`"'=HYPERLINK(""http://evil"")"`);
      expect(lines[1]).to.contain(",'+254700,");
      expect(lines[1]).to.contain(',1500.00,');
    });
  });

  describe('settings and plan changes', () => {
    it('GET/PUT /settings/billing: defaults, admin-only changes, bad values named', async () => {
      expect(expectStatus(await staff.get('/settings/billing'), 200)).to.deep.equal({ autoRenew: true, graceHours: 0, changePlanDefault: 'next-renewal' });
      expect((await staff.request('PUT', '/settings/billing', { graceHours: 2 })).status).to.equal(403);
      const bad = await admin.request('PUT', '/settings/billing', { graceHours: 721 });
      expect(bad.status).to.equal(422);
      expect((bad.body as ErrorBody).error.field).to.equal('graceHours');
      expect(expectStatus(await admin.request('PUT', '/settings/billing', { graceHours: 3 }), 200)).to.deep.equal({
        autoRenew: true,
        graceHours: 3,
        changePlanDefault: 'next-renewal',
      });
      expectStatus(await admin.request('PUT', '/settings/billing', { graceHours: 0 }), 200);
    });

    it('Change Plan from the next renewal: scheduled, then a payment renews onto it at its price', async () => {
      const premium = await fx.plan('pppoe', { poolIds: [world.pppoePool.id as string] }, { price: '3000' });
      const c = await addCustomer();
      const scheduled = expectStatus(await staff.post(`/customers/${c.id}/change-plan`, { planId: premium.id }), 200) as Body;
      expect(scheduled).to.include({ planId: world.pppoe.id, nextPlanId: premium.id, nextPlanName: premium.name, due: '3000.00' });
      const account = expectStatus(await staff.get(`/customers/${c.id}/account`), 200) as Body;
      expect(account).to.deep.include({ price: '3000.00', nextPlan: { id: premium.id, name: premium.name } });
      const res = expectStatus(await pay(staff, c.id, { method: 'cash', amount: '3000' }), 201) as { customer: Body; periods: number };
      expect(res.periods).to.equal(1);
      expect(res.customer).to.include({ planId: premium.id, nextPlanId: null, balance: '0.00' });
    });

    it('Change Plan now charges the difference pro rata; a cheaper plan credits it', async () => {
      const premium = await fx.plan('pppoe', { poolIds: [world.pppoePool.id as string] }, { price: '3000' });
      const c = await addCustomer();
      const now = expectStatus(await staff.post(`/customers/${c.id}/change-plan`, { planId: premium.id, when: 'now' }), 200) as Body;
      expect(now).to.include({ planId: premium.id, nextPlanId: null, expiresAt: c.expiresAt });
      // a full period is left: the whole difference, to the cent within rounding of the seconds elapsed
      expect(Number(now.balance)).to.be.closeTo(-1500, 1);
      const back = expectStatus(await staff.post(`/customers/${c.id}/change-plan`, { planId: world.pppoe.id, when: 'now' }), 200) as Body;
      expect(Number(back.balance)).to.be.closeTo(0, 1);
      expect((await staff.post(`/customers/${c.id}/change-plan`, { planId: premium.id, when: 'later' })).status).to.equal(422);
    });

    it('the expiry sweep auto-renews a covered customer and expires the rest', async () => {
      const covered = await addCustomer();
      const short = await addCustomer();
      expectStatus(await pay(admin, covered.id, { amount: '1500', kind: 'adjustment' }), 201);
      await controller.services.db.exec(`UPDATE customers SET expires_at = now() - interval '1 minute' WHERE id IN ($1, $2)`, [covered.id, short.id]);
      await controller.services.expiry.sweep(); // the expiry engine replaced the row loop
      const a = await customer(covered.id);
      expect(a).to.include({ status: 'active', balance: '0.00' });
      expect(Date.parse(a.expiresAt as string) - Date.now()).to.be.closeTo(30 * DAY, 120_000);
      expect(await customer(short.id)).to.include({ status: 'expired' });
      const audit = expectStatus(await admin.get(`/audit?entity=customer&entityId=${covered.id}`), 200) as { items: Body[] };
      expect(audit.items.map((x) => x.action)).to.include('customer.auto-renew');
    });

    it('an archived plan is refused to new customers and kept for existing ones; an unused plan can be deleted', async () => {
      const plan = await fx.plan('pppoe', { poolIds: [world.pppoePool.id as string] });
      const c = expectStatus(
        await staff.post('/customers', fx.customerBody(plan.id as string, { networkId: world.pppoeNetworkId, ipAddress: `10.64.9.${ip++}` })),
        201,
      ) as Body;
      expect(expectStatus(await staff.post(`/plans/${plan.id}/archive`), 200)).to.include({ archived: true });
      const refused = await staff.post('/customers', fx.customerBody(plan.id as string, { networkId: world.pppoeNetworkId, ipAddress: `10.64.9.${ip++}` }));
      expect(refused.status).to.equal(422);
      expect((refused.body as ErrorBody).error).to.include({ field: 'planId', message: 'This plan is archived: choose another plan' });
      expectStatus(await pay(staff, c.id, { method: 'cash', amount: '1500' }), 201);
      expect((await admin.delete(`/plans/${plan.id}`)).status).to.equal(409);
      expect(expectStatus(await staff.post(`/plans/${plan.id}/unarchive`), 200)).to.include({ archived: false });
      const sold = await fx.plan('hotspot', { routerIds: [world.router.id as string] });
      expectStatus(await admin.post('/vouchers/batches', { planId: sold.id, count: 2 }), 201);
      const kept = await admin.delete(`/plans/${sold.id}`);
      expect(kept.status).to.equal(409);
      expect((kept.body as ErrorBody).error.message).to.match(/vouchers or captive-portal sales/);
      expectStatus(await admin.get(`/plans/${sold.id}`), 200);
      const unused = await fx.plan('hotspot', { routerIds: [world.router.id as string] });
      expectStatus(await admin.delete(`/plans/${unused.id}`), 200);
    });
  });
});
