import { expect } from 'chai';
import { ApiClient, expectStatus } from './helpers/client.ts';
import { ADMIN_PASSWORD, startTestController } from './helpers/controller.ts';
import { Fixtures } from './helpers/fixtures.ts';

type Body = Record<string, unknown>;
type Overview = {
  today: string;
  customers: Record<string, number>;
  expiring: { today: number; next7Days: number };
  revenue: { today: string; todayCount: number; month: string; monthCount: number; monthStart: string };
  unmatchedPayments: number | null;
  routers: Record<string, number>;
  agents: Record<string, number>;
  jobs: { pending: number; failed: number };
  revenueByDay: { day: string; amount: string; count: number }[];
  activeByDay: { day: string; active: number | null; total: number | null }[];
  pools: { id: string; used: number; usable: number; utilisation: number }[];
};
type Revenue = {
  from: string;
  to: string;
  rows: { key: string | null; label: string; count: number; amount: string }[];
  total: { count: number; amount: string; byMethod: Record<string, string> };
};
type CashUp = {
  date: string;
  rows: { staffId: string | null; staff: string; count: number; byMethod: Record<string, string>; total: string }[];
  totals: { count: number; byMethod: Record<string, string>; total: string };
};

const TZ = 'Africa/Nairobi';
const today = () => new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(new Date());

describe('overview and reports (GET /reports/*)', () => {
  let controller: Awaited<ReturnType<typeof startTestController>>;
  let admin: ApiClient;
  let staff: ApiClient;
  let noc: ApiClient;
  let staffId: string;
  let plan: Body;
  let pool: Body;

  before(async () => {
    controller = await startTestController({ MTANDAO_TIMEZONE: TZ });
    admin = await new ApiClient(controller.url).login('admin', ADMIN_PASSWORD);
    staffId = (expectStatus(await admin.post('/users', { username: 'cashier.wanjiku', password: 'cashier-password-1', role: 'staff' }), 201) as { id: string })
      .id;
    expectStatus(await admin.post('/users', { username: 'noc.kip', password: 'noc-password-123', role: 'noc' }), 201);
    staff = await new ApiClient(controller.url).login('cashier.wanjiku', 'cashier-password-1');
    noc = await new ApiClient(controller.url).login('noc.kip', 'noc-password-123');
    const fx = new Fixtures(admin);
    const site = await fx.site();
    const router = await fx.router(site.id as string);
    pool = await fx.pool(router.id as string, ['10.90.0.0/29'], { gateway: '10.90.0.1' });
    plan = await fx.plan('pppoe', { poolIds: [pool.id as string] }, { price: '1000.00' });
    const minutePlan = await fx.plan('pppoe', { poolIds: [pool.id as string] }, { price: '1000.00', validity: { count: 1, unit: 'minutes' } });
    const net = (pool.networks as Body[])[0]!.id;
    // c1 by admin in cash, c2 by the cashier by M-Pesa (each registration pays the first period)
    const c1 = expectStatus(await admin.post('/customers', fx.customerBody(plan.id as string, { networkId: net, ipAddress: '10.90.0.2' })), 201) as Body;
    const c2 = expectStatus(
      await staff.post('/customers', fx.customerBody(minutePlan.id as string, { networkId: net, ipAddress: '10.90.0.3', payment: { method: 'mpesa' } })),
      201,
    ) as Body;
    expectStatus(await admin.post('/customers', fx.customerBody(plan.id as string, { networkId: net, ipAddress: '10.90.0.4', autoActivate: false })), 201);
    expectStatus(await admin.post(`/customers/${c1.id}/payments`, { method: 'bank', amount: '500.00', reference: 'BNK-1' }), 201);
    const wrong = expectStatus(await staff.post(`/customers/${c2.id}/payments`, { method: 'cash', amount: '300.00' }), 201) as { payment: { id: string } };
    expectStatus(await admin.post(`/payments/${wrong.payment.id}/reverse`, { reason: 'typed on the wrong account' }), 201);
  });
  after(async () => controller.stop());

  it('overview: customers, expiries, money, routers, agents, jobs and the chart series', async () => {
    const o = expectStatus(await noc.get('/reports/overview'), 200) as Overview;
    expect(o.today).to.equal(today());
    expect(o.customers).to.deep.include({ total: 3, active: 2, inactive: 1, expired: 0, suspended: 0 });
    expect(o.expiring.today).to.be.at.least(1); // the 1-minute plan
    expect(o.expiring.next7Days).to.be.at.least(o.expiring.today);
    // 1000 cash + 1000 M-Pesa + 500 bank + 300 cash − 300 reversed: 3 payments that stand
    expect(o.revenue).to.deep.include({ today: '2500.00', todayCount: 3, month: '2500.00', monthCount: 3 });
    expect(o.unmatchedPayments === null || o.unmatchedPayments === 0).to.equal(true);
    expect(o.routers).to.deep.include({ total: 1, unknown: 1, up: 0, down: 0 });
    expect(o.agents).to.deep.equal({ online: 0, offline: 0 });
    expect(o.jobs.pending).to.be.greaterThan(0); // no agent: the router jobs wait
    expect(o.revenueByDay).to.have.length(30);
    expect(o.revenueByDay.at(-1)).to.deep.equal({ day: o.today, amount: '2500.00', count: 3 });
    expect(o.revenueByDay.slice(0, -1).every((d) => d.amount === '0.00')).to.equal(true);
    expect(o.activeByDay).to.have.length(30);
    expect(o.activeByDay.at(-1)).to.deep.equal({ day: o.today, active: 2, total: 3 });
    const p = o.pools.find((x) => x.id === pool.id)!;
    expect(p).to.deep.include({ used: 3, usable: 5 });
    expect(p.utilisation).to.be.closeTo(0.6, 0.001);
  });

  it('active customers over time come from the daily snapshot', async () => {
    await controller.services.reports.snapshot();
    await controller.services.db.exec(
      `INSERT INTO customer_daily_counts (day, total, active, expired, suspended, inactive) VALUES ((now() AT TIME ZONE $1)::date - 3, 10, 7, 2, 1, 0)`,
      [TZ],
    );
    const o = expectStatus(await admin.get('/reports/overview'), 200) as Overview;
    expect(o.activeByDay.at(-4)).to.deep.include({ active: 7, total: 10 });
    expect(o.activeByDay.at(-2)).to.deep.include({ active: null, total: null });
  });

  it('revenue by day, method, staff and plan, with totals; reversals count against the payment', async () => {
    const get = async (q: string) => expectStatus(await admin.get(`/reports/revenue?${q}`), 200) as Revenue;
    const byDay = await get('groupBy=day');
    expect(byDay.from).to.equal(`${today().slice(0, 8)}01`);
    expect(byDay.to).to.equal(today());
    expect(byDay.rows).to.deep.equal([{ key: today(), label: today(), count: 3, amount: '2500.00' }]);
    expect(byDay.total).to.deep.equal({ count: 3, amount: '2500.00', byMethod: { cash: '1000.00', mpesa: '1000.00', bank: '500.00', cheque: '0.00' } });
    const byMethod = await get('groupBy=method');
    expect(Object.fromEntries(byMethod.rows.map((r) => [r.key, [r.label, r.count, r.amount]]))).to.deep.equal({
      cash: ['Cash', 1, '1000.00'],
      mpesa: ['M-Pesa', 1, '1000.00'],
      bank: ['Bank', 1, '500.00'],
    });
    const byStaff = await get('groupBy=staff');
    expect(byStaff.rows.map((r) => [r.label, r.count, r.amount])).to.deep.equal([
      ['admin', 2, '1500.00'],
      ['cashier.wanjiku', 1, '1000.00'],
    ]);
    const byPlan = await get('groupBy=plan');
    expect(byPlan.total.amount).to.equal('2500.00');
    expect(byPlan.rows.every((r) => r.label.length > 0)).to.equal(true);
    const yesterday = new Date(Date.parse(`${today()}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    expect((await get(`from=${yesterday}&to=${yesterday}`)).total.amount).to.equal('0.00');
  });

  it('revenue and cash-up export as CSV', async () => {
    const res = await admin.get('/reports/revenue?groupBy=method&format=csv');
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/csv/);
    const lines = (res.body as unknown as string).trimEnd().split('\r\n');
    expect(lines[0]).to.equal('method,payments,amount');
    expect(lines).to.include('Total,3,2500.00');
    const cash = await admin.get('/reports/cash-up?format=csv');
    const cl = (cash.body as unknown as string).trimEnd().split('\r\n');
    expect(cl[0]).to.equal('staff,payments,Cash,M-Pesa,Bank,Cheque,total');
    expect(cl).to.include('cashier.wanjiku,1,0.00,1000.00,0.00,0.00,1000.00');
    expect(cl.at(-1)).to.equal('Total,3,1000.00,1000.00,500.00,0.00,2500.00');
  });

  it('cash-up: what each staff member took today, by method', async () => {
    const c = expectStatus(await staff.get('/reports/cash-up'), 200) as CashUp;
    expect(c.date).to.equal(today());
    expect(c.rows.map((r) => [r.staff, r.count, r.byMethod, r.total])).to.deep.equal([
      ['admin', 2, { cash: '1000.00', mpesa: '0.00', bank: '500.00', cheque: '0.00' }, '1500.00'],
      ['cashier.wanjiku', 1, { cash: '0.00', mpesa: '1000.00', bank: '0.00', cheque: '0.00' }, '1000.00'],
    ]);
    expect(c.totals).to.deep.equal({ count: 3, byMethod: { cash: '1000.00', mpesa: '1000.00', bank: '500.00', cheque: '0.00' }, total: '2500.00' });
    const mine = expectStatus(await admin.get(`/reports/cash-up?staffId=${staffId}`), 200) as CashUp;
    expect(mine.rows.map((r) => r.staff)).to.deep.equal(['cashier.wanjiku']);
  });

  it('money reports are for admins and staff; bad input names its field', async () => {
    expect((await noc.get('/reports/revenue')).status).to.equal(403);
    expect((await noc.get('/reports/cash-up')).status).to.equal(403);
    for (const [q, field] of <[string, string][]>[
      ['/reports/revenue?groupBy=week', 'groupBy'],
      ['/reports/revenue?from=2026-02-30', 'from'],
      ['/reports/revenue?from=2026-12-02&to=2026-12-01', 'from'],
      ['/reports/cash-up?date=today', 'date'],
      ['/reports/revenue?format=pdf', 'format'],
    ]) {
      const res = await admin.get(q);
      expect(res.status, q).to.equal(422);
      expect((res.body as { error: { field: string } }).error.field, q).to.equal(field);
    }
  });
});
