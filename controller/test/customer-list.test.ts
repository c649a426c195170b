import { expect } from 'chai';
import { ApiClient, expectStatus } from './helpers/client.ts';
import { ADMIN_PASSWORD, startTestController } from './helpers/controller.ts';
import { Fixtures } from './helpers/fixtures.ts';

type Body = Record<string, unknown>;
type List = { items: Body[]; total: number };
type ErrorBody = { error: { message: string; field?: string } };

const TZ = 'Africa/Nairobi';
const localDay = (iso: string) => new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(new Date(iso));

describe('Customer list depth (GET /customers filters, sorts, CSV)', () => {
  let controller: Awaited<ReturnType<typeof startTestController>>;
  let api: ApiClient;
  let fx: Fixtures;
  const c: Record<string, Body> = {};
  let w: Record<string, Body>;

  before(async () => {
    controller = await startTestController({ MTANDAO_TIMEZONE: TZ });
    api = await new ApiClient(controller.url).login('admin', ADMIN_PASSWORD);
    fx = new Fixtures(api);
    const siteA = await fx.site();
    const siteB = await fx.site();
    const routerA = await fx.router(siteA.id as string);
    const routerB = await fx.router(siteB.id as string);
    const poolA = await fx.pool(routerA.id as string, ['10.80.0.0/24'], { gateway: '10.80.0.1' });
    const poolB = await fx.pool(routerB.id as string, ['10.81.0.0/24'], { gateway: '10.81.0.1' });
    const minutePlan = await fx.plan('pppoe', { poolIds: [poolA.id as string] }, { validity: { count: 1, unit: 'minutes' }, price: '10' });
    const monthPlan = await fx.plan('pppoe', { poolIds: [poolB.id as string] });
    const hotspotB = await fx.plan('hotspot', { routerIds: [routerB.id as string] }, { validity: { count: 3, unit: 'days' }, price: '50' });
    w = { siteA, siteB, routerA, routerB, poolA, poolB, minutePlan, monthPlan, hotspotB };
    const add = async (key: string, body: Body) => (c[key] = expectStatus(await api.post('/customers', body), 201) as Body);
    await add(
      'zed',
      fx.customerBody(minutePlan.id as string, { fullName: 'Zawadi Zed', networkId: (poolA.networks as Body[])[0]!.id, ipAddress: '10.80.0.10' }),
    );
    await add(
      'amina',
      fx.customerBody(monthPlan.id as string, { fullName: 'amina Achieng', networkId: (poolB.networks as Body[])[0]!.id, ipAddress: '10.81.0.10' }),
    );
    await add('hot', fx.customerBody(hotspotB.id as string, { connectionType: 'hotspot', fullName: 'Mwangi Hotspot' }));
    await add(
      'formula',
      fx.customerBody(monthPlan.id as string, {
        fullName: '=HYPERLINK("http://evil.example","click")',
        email: 'a,b@example.com',
        networkId: (poolB.networks as Body[])[0]!.id,
        ipAddress: '10.81.0.11',
      }),
    );
    await add(
      'idle',
      fx.customerBody(monthPlan.id as string, {
        fullName: 'Baraka Inactive',
        autoActivate: false,
        networkId: (poolB.networks as Body[])[0]!.id,
        ipAddress: '10.81.0.12',
      }),
    );
    expectStatus(await api.post(`/customers/${c.amina!.id}/payments`, { kind: 'debt', amount: '250.00', note: 'router replacement' }), 201);
  });
  after(async () => controller.stop());

  const ids = (l: List) => l.items.map((i) => i.id);
  const list = async (q: string) => expectStatus(await api.get(`/customers?${q}`), 200) as List;

  it('filters by plan, site and router (Hotspot customers by their plan’s routers)', async () => {
    expect(ids(await list(`planId=${w.monthPlan!.id}`))).to.have.members([c.amina!.id, c.formula!.id, c.idle!.id]);
    expect(ids(await list(`siteId=${w.siteA!.id}`))).to.deep.equal([c.zed!.id]);
    expect(ids(await list(`routerId=${w.routerB!.id}`))).to.have.members([c.amina!.id, c.hot!.id, c.formula!.id, c.idle!.id]);
    expect(ids(await list(`siteId=${w.siteB!.id}&planId=${w.hotspotB!.id}`))).to.deep.equal([c.hot!.id]);
  });

  it('finds active customers expiring within N days, counted in the ISP’s days', async () => {
    const today = localDay(new Date().toISOString());
    const expected0 = Object.values(c)
      .filter((x) => x.status === 'active' && x.expiresAt && localDay(x.expiresAt as string) <= today)
      .map((x) => x.id);
    expect(expected0).to.include(c.zed!.id);
    expect(ids(await list('expiringWithinDays=0'))).to.have.members(expected0);
    const three = ids(await list('expiringWithinDays=3'));
    expect(three).to.include.members([c.zed!.id, c.hot!.id]);
    expect(three).to.not.include(c.amina!.id);
    expect(three).to.not.include(c.idle!.id);
    expect(ids(await list('expiringWithinDays=31'))).to.include(c.amina!.id);
  });

  it('finds the customers who owe', async () => {
    const owing = await list('owing=true');
    expect(ids(owing)).to.deep.equal([c.amina!.id]);
    expect(owing.items[0]!.balance).to.match(/^-/);
  });

  it('sorts by name, expiry and balance, both ways', async () => {
    const names = (await list('sort=name&pageSize=200')).items.map((i) => (i.fullName as string).toLowerCase());
    expect(names).to.deep.equal([...names].sort());
    expect((await list('sort=name&order=desc')).items.map((i) => (i.fullName as string).toLowerCase())).to.deep.equal([...names].reverse());
    const expiries = (await list('sort=expiry')).items.map((i) => i.expiresAt as string | null);
    const dated = expiries.filter((e) => e !== null) as string[];
    expect(dated).to.deep.equal([...dated].sort());
    expect(expiries.at(-1)).to.equal(null); // never activated: last
    expect((await list('sort=expiry&order=desc')).items.at(-1)!.expiresAt).to.equal(null);
    const balances = (await list('sort=balance')).items.map((i) => Number(i.balance));
    expect(balances[0]).to.be.lessThan(0);
    expect(balances).to.deep.equal([...balances].sort((a, b) => a - b));
  });

  it('pages the filtered list with its total', async () => {
    const p1 = await list(`routerId=${w.routerB!.id}&sort=name&pageSize=2&page=1`);
    const p2 = await list(`routerId=${w.routerB!.id}&sort=name&pageSize=2&page=2`);
    expect(p1.total).to.equal(4);
    expect([...ids(p1), ...ids(p2)])
      .to.have.length(4)
      .and.to.have.members([c.amina!.id, c.hot!.id, c.formula!.id, c.idle!.id]);
  });

  it('exports every match as CSV in the import template’s columns, without passwords, formula-safe', async () => {
    const res = await api.get(`/customers?format=csv&routerId=${w.routerB!.id}&sort=name&pageSize=1`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/csv/);
    expect(res.headers.get('content-disposition')).to.match(/^attachment; filename="?customers-\d{4}-\d{2}-\d{2}\.csv"?$/);
    const text = res.body as unknown as string;
    const lines = text.trimEnd().split('\r\n');
    expect(lines[0]).to.equal('full_name,phone,username,password,plan_name,connection_type,email,ip_address,account_number,expires_at');
    expect(lines).to.have.length(5); // every match, not one page
    expect(text).to.include(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
    expect(text).to.include('"a,b@example.com"');
    const amina = lines.find((l) => l.startsWith('amina Achieng'))!;
    expect(amina).to.include(`,${c.amina!.username},`);
    expect(amina).to.match(/,\d{4}-\d{2}-\d{2}T[\d:.]+Z$/);
    expect(amina).to.include(`${c.amina!.username},,`); // no password without passwords=true
    const pw = expectStatus(await api.get(`/customers/${c.amina!.id}/password`), 200) as { password: string };
    expect(text).to.not.include(pw.password);
  });

  it('names the field of a bad filter', async () => {
    for (const [q, field] of [
      ['expiringWithinDays=soon', 'expiringWithinDays'],
      ['sort=colour', 'sort'],
      ['order=up', 'order'],
      ['routerId=x', 'routerId'],
      ['format=xml', 'format'],
      ['owing=maybe', 'owing'],
    ]) {
      const res = await api.get(`/customers?${q}`);
      expect(res.status, q).to.equal(422);
      expect((res.body as unknown as ErrorBody).error.field, q).to.equal(field);
    }
  });
});
