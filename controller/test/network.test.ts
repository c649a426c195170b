import { expect } from 'chai';
import { ApiClient, expectStatus } from './helpers/client.ts';
import { ADMIN_PASSWORD, startTestController } from './helpers/controller.ts';
import { Fixtures } from './helpers/fixtures.ts';

type Body = Record<string, unknown>;
type ErrorBody = { error: { message: string; field?: string } };

describe('sites, routers, pools and plans', () => {
  let controller: Awaited<ReturnType<typeof startTestController>>;
  let api: ApiClient;
  let fx: Fixtures;

  before(async () => {
    controller = await startTestController();
    api = await new ApiClient(controller.url).login('admin', ADMIN_PASSWORD);
    fx = new Fixtures(api);
  });
  after(async () => controller.stop());

  it('refuses overlapping pools, naming the block and the pool it overlaps', async () => {
    const site = await fx.site();
    const router = await fx.router(site.id as string);
    const first = await fx.pool(router.id as string, ['10.90.0.0/16']);
    const res = await api.post('/pools', { name: 'Overlapping', routerId: router.id, networks: ['192.168.50.0/24', '10.90.5.0/24'] });
    expect(res.status).to.equal(409);
    expect((res.body as ErrorBody).error).to.deep.include({ field: 'networks.1', message: `Network 10.90.5.0/24 overlaps 10.90.0.0/16 of pool ${first.name}` });
    // nothing half-written: the first block of the refused pool is still free
    expectStatus(await api.post('/pools', { name: 'Fine', routerId: router.id, networks: ['192.168.50.0/24'] }), 201);
  });

  it('names a block that is not a block, too big or too small', async () => {
    const site = await fx.site();
    const router = await fx.router(site.id as string);
    const cases: [string, string][] = [
      ['10.91.0.1/16', 'Network 10.91.0.1/16 is not a block boundary; did you mean 10.91.0.0/16?'],
      ['10.0.0.0/7', 'Network 10.0.0.0/7 must be between /8 and /30'],
      ['10.92.0.0/31', 'Network 10.92.0.0/31 must be between /8 and /30'],
      ['fe80::/64', 'Network fe80::/64 must be an IPv4 block like 10.64.0.0/16'],
    ];
    for (const [cidr, message] of cases) {
      const res = await api.post('/pools', { name: `P ${cidr}`, routerId: router.id, networks: [cidr] });
      expect(res.status, cidr).to.equal(422);
      expect((res.body as ErrorBody).error, cidr).to.deep.include({ field: 'networks.0', message });
    }
  });

  it('reports utilisation and keeps a block with customers', async () => {
    const site = await fx.site();
    const router = await fx.router(site.id as string);
    const pool = await fx.pool(router.id as string, ['10.93.0.0/24', '10.93.1.0/24'], { gateway: '10.93.0.1', reserved: ['10.93.0.2-10.93.0.11'] });
    const plan = await fx.plan('pppoe', { poolIds: [pool.id as string] });
    const networks = pool.networks as Body[];
    expect(networks.map((n) => [n.cidr, n.usable, n.free, n.searchable])).to.deep.equal([
      ['10.93.0.0/24', 254 - 1 - 10, 254 - 1 - 10, false],
      ['10.93.1.0/24', 254, 254, false],
    ]);
    expectStatus(await api.post('/customers', fx.customerBody(plan.id as string, { networkId: networks[0]!.id, ipAddress: '10.93.0.50' })), 201);
    const after = expectStatus(await api.get(`/pools/${pool.id}`), 200) as Body;
    expect(after).to.include({ used: 1, usable: 497 });
    const res = await api.patch(`/pools/${pool.id}`, { networks: ['10.93.1.0/24'] });
    expect(res.status).to.equal(409);
    expect((res.body as ErrorBody).error.message).to.equal('Network 10.93.0.0/24 has customers and cannot be removed');
    const grown = expectStatus(await api.patch(`/pools/${pool.id}`, { networks: ['10.93.0.0/24', '10.93.1.0/24', '10.93.2.0/24'] }), 200) as {
      networks: Body[];
    };
    expect(grown.networks.map((n) => n.cidr)).to.deep.equal(['10.93.0.0/24', '10.93.1.0/24', '10.93.2.0/24']);
  });

  it('renames and deletes sites and routers, refusing what is still in use', async () => {
    const site = await fx.site();
    const router = await fx.router(site.id as string, 'edge-old');
    expect(expectStatus(await api.patch(`/sites/${site.id}`, { name: 'Renamed POP' }), 200)).to.include({ name: 'Renamed POP' });
    expect(expectStatus(await api.patch(`/routers/${router.id}`, { name: 'edge-new', host: '192.168.88.1' }), 200)).to.include({
      name: 'edge-new',
      host: '192.168.88.1',
    });
    expect((await api.patch(`/routers/${router.id}`, {})).status).to.equal(422);
    const pool = await fx.pool(router.id as string, ['10.94.0.0/24']);
    const inUse = await api.delete(`/routers/${router.id}`);
    expect(inUse.status).to.equal(409);
    expect((inUse.body as ErrorBody).error.message).to.equal('This router still carries pools or plans: move or delete them first');
    expect((await api.delete(`/sites/${site.id}`)).status).to.equal(409);
    void pool;
    const spare = await fx.router(site.id as string, 'spare');
    expectStatus(await api.delete(`/routers/${spare.id}`), 200);
    expect((await api.get(`/routers/${spare.id}`)).status).to.equal(404);
    const empty = await fx.site();
    expectStatus(await api.delete(`/sites/${empty.id}`), 200);
  });

  it('records a debt without a payment method, and clears an email', async () => {
    const world = await fx.world({ pppoeNetworks: ['10.95.0.0/16'], staticNetworks: ['172.16.95.0/28'] });
    const c = expectStatus(
      await api.post('/customers', fx.customerBody(world.pppoe.id as string, { ipAddress: '10.95.0.9', email: 'jane@example.co.ke' })),
      201,
    ) as Body;
    const debt = expectStatus(await api.post(`/customers/${c.id}/payments`, { kind: 'debt', amount: '300' }), 201) as { payment: Body };
    expect(debt.payment).to.include({ kind: 'debt', method: null, amount: '300.00' });
    const noMethod = await api.post(`/customers/${c.id}/payments`, { amount: '300' });
    expect(noMethod.status).to.equal(422);
    expect((noMethod.body as ErrorBody).error).to.deep.include({ field: 'method', message: 'Payment method is required' });
    expect(expectStatus(await api.patch(`/customers/${c.id}`, { email: null }), 200)).to.include({ email: null });
  });

  it("finds a deleted customer's jobs by username", async () => {
    const world = await fx.world({ pppoeNetworks: ['10.96.0.0/16'], staticNetworks: ['172.16.96.0/28'] });
    const c = expectStatus(
      await api.post('/customers', fx.customerBody(world.pppoe.id as string, { ipAddress: '10.96.0.9', username: 'gone.soon' })),
      201,
    ) as Body;
    expectStatus(await api.delete(`/customers/${c.id}`), 200);
    const jobs = expectStatus(await api.get('/provisioning/jobs?customerUsername=GONE.SOON'), 200) as { items: Body[] };
    expect(jobs.items.map((j) => j.type).sort()).to.deep.equal(['customer.apply', 'customer.remove']);
  });
});
