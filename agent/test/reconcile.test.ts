import { CustomerSpec as CustomerSchema, type CustomerRef, type CustomerSpec } from '@mtandao/protocol';
import { expect } from 'chai';
import { openRouter } from '../src/drivers/index.ts';
import type { RouterClient } from '../src/drivers/types.ts';
import { applyCustomer, applyPlan, disconnectCustomer, removeCustomer, removePlan } from '../src/reconcile/index.ts';
import { startRouter, type Router } from './helpers/sim-fixtures.ts';
import { customer, hotspotPlan, pppoePlan, staticPlan } from './helpers/sim-desired.ts';

const ref = (c: CustomerSpec): CustomerRef => ({
  customerId: c.customerId,
  connectionType: c.connectionType,
  username: c.username,
  ...(c.ipAddress ? { ipAddress: c.ipAddress } : {}),
});
const MENUS = [
  '/ppp/profile',
  '/ppp/secret',
  '/ppp/active',
  '/ip/hotspot/user/profile',
  '/ip/hotspot/user',
  '/ip/hotspot/active',
  '/queue/simple',
  '/ip/firewall/address-list',
];

/** Everything on the emulated router, minus what differs by the clock. */
function snapshot(router: Router): Record<string, Record<string, string>[]> {
  return Object.fromEntries(MENUS.map((m) => [m, router.sim.store.list(m).map(({ 'creation-time': _t, uptime: _u, ...row }) => row)]));
}

const find = (router: Router, menu: string, where: Record<string, string>) =>
  router.sim.store.list(menu).filter((r) => Object.entries(where).every(([k, v]) => r[k] === v));

describe('desired state lands the same through the API and through SSH', () => {
  it('gives identical router contents for a PPPoE, a Hotspot and a Static customer, suspended and resumed', async () => {
    const routers = await Promise.all([startRouter({ sshPort: null }), startRouter()]);
    const clients = [openRouter(routers[0].config('api')), openRouter(routers[1].config('ssh'))];
    const customers = [customer('c1', pppoePlan()), customer('c2', hotspotPlan()), customer('c3', staticPlan(), { ipAddress: '10.65.0.9' })];
    for (const [i, client] of clients.entries()) {
      for (const c of customers) await applyCustomer(client, c);
      routers[i]?.sim.store.addPppSession('user-c1');
      for (const c of customers) await applyCustomer(client, { ...c, status: 'suspended' });
      await applyCustomer(client, customers[0] as CustomerSpec);
    }
    expect(snapshot(routers[1])).to.deep.equal(snapshot(routers[0]));
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(routers.map((r) => r.sim.stop()));
  });
});

for (const transport of ['api', 'ssh'] as const) {
  describe(`applying desired state over ${transport}`, () => {
    let router: Router;
    let client: RouterClient;
    beforeEach(async () => {
      router = await startRouter(transport === 'api' ? { sshPort: null } : {});
      client = openRouter(router.config(transport));
    });
    afterEach(async () => {
      await client.close();
      await router.sim.stop();
    });

    it('lands a PPPoE customer: the plan profile (rate-limit upload/download, local-address), then the secret', async () => {
      const c = customer('1', pppoePlan(), { ipAddress: '10.64.0.5' });
      const result = await applyCustomer(client, c);
      expect(result.changes).to.deep.equal(['add /ppp/profile Home 10M', 'add /ppp/secret user-1']);
      expect(find(router, '/ppp/profile', { name: 'Home 10M' })[0]).to.include({
        'rate-limit': '5M/10M',
        'local-address': '10.64.0.1',
        comment: 'mtandao-plan:p-home',
      });
      expect(find(router, '/ppp/secret', { name: 'user-1' })[0]).to.include({
        password: 'pw-1',
        service: 'pppoe',
        profile: 'Home 10M',
        'remote-address': '10.64.0.5',
        disabled: 'false',
        comment: 'mtandao:1',
      });
    });

    it('lands a Hotspot customer: user profile (rate-limit, shared-users), then the user with its data limit', async () => {
      await applyCustomer(client, customer('2', hotspotPlan()));
      expect(find(router, '/ip/hotspot/user/profile', { name: 'Day pass' })[0]).to.include({
        'rate-limit': '1M/2M',
        'shared-users': '2',
        comment: 'mtandao-plan:p-day',
      });
      expect(find(router, '/ip/hotspot/user', { name: 'user-2' })[0]).to.include({
        password: 'pw-2',
        profile: 'Day pass',
        'limit-bytes-total': '2000000000',
        disabled: 'false',
        comment: 'mtandao:2',
      });
    });

    it('lands a Static customer: a simple queue on <ip>/32 and the IP in mtandao-active', async () => {
      await applyCustomer(client, customer('3', staticPlan(), { ipAddress: '10.65.0.3' }));
      expect(find(router, '/queue/simple', { comment: 'mtandao:3' })[0]).to.include({
        name: 'user-3',
        target: '10.65.0.3/32',
        'max-limit': '10000000/20000000',
      });
      expect(find(router, '/ip/firewall/address-list', { comment: 'mtandao:3' })[0]).to.include({ list: 'mtandao-active', address: '10.65.0.3' });
    });

    it('writes nothing when the same customers are applied again', async () => {
      const customers = [customer('1', pppoePlan()), customer('2', hotspotPlan()), customer('3', staticPlan())];
      for (const c of customers) await applyCustomer(client, c);
      const writes = router.sim.stats.writes;
      for (const c of customers) expect((await applyCustomer(client, c)).changes).to.deep.equal([]);
      expect((await applyPlan(client, pppoePlan())).changes).to.deep.equal([]);
      expect(router.sim.stats.writes).to.equal(writes);
    });

    it('compares values as RouterOS reads them back, so 5000000/10000000 already is 5M/10M', async () => {
      router.sim.store.add('/queue/simple', { name: 'user-4', target: '10.64.1.4', 'max-limit': '10000k/20000000', comment: 'mtandao:4' });
      router.sim.store.add('/ip/firewall/address-list', { list: 'mtandao-active', address: '10.64.1.4/32', comment: 'mtandao:4' });
      const writes = router.sim.stats.writes;
      expect((await applyCustomer(client, customer('4', staticPlan()))).changes).to.deep.equal([]);
      expect(router.sim.stats.writes).to.equal(writes);
    });

    it('suspends (disabled, sessions dropped, static IP blocked) and unsuspends', async () => {
      const ppp = customer('1', pppoePlan());
      const hs = customer('2', hotspotPlan());
      const st = customer('3', staticPlan());
      for (const c of [ppp, hs, st]) await applyCustomer(client, c);
      router.sim.store.addPppSession(ppp.username);
      router.sim.store.addHotspotSession(hs.username);
      for (const c of [ppp, hs, st]) await applyCustomer(client, { ...c, status: 'suspended' });
      expect(find(router, '/ppp/secret', { name: ppp.username })[0]?.disabled).to.equal('true');
      expect(find(router, '/ip/hotspot/user', { name: hs.username })[0]?.disabled).to.equal('true');
      expect(find(router, '/ppp/active', {})).to.deep.equal([]);
      expect(find(router, '/ip/hotspot/active', {})).to.deep.equal([]);
      expect(find(router, '/ip/firewall/address-list', { comment: 'mtandao:3' }).map((r) => r.list)).to.deep.equal(['mtandao-blocked']);
      for (const c of [ppp, hs, st]) await applyCustomer(client, c);
      expect(find(router, '/ppp/secret', { name: ppp.username })[0]?.disabled).to.equal('false');
      expect(find(router, '/ip/hotspot/user', { name: hs.username })[0]?.disabled).to.equal('false');
      expect(find(router, '/ip/firewall/address-list', { comment: 'mtandao:3' }).map((r) => r.list)).to.deep.equal(['mtandao-active']);
    });

    it('drops a live session when the password, profile or IP changes, and leaves it when nothing did', async () => {
      const c = customer('1', pppoePlan());
      await applyCustomer(client, c);
      router.sim.store.addPppSession(c.username);
      await applyCustomer(client, c);
      expect(find(router, '/ppp/active', { name: c.username })).to.have.length(1);
      const result = await applyCustomer(client, { ...c, password: 'changed' });
      expect(result.changes).to.deep.equal(['set /ppp/secret user-1: password', 'kick /ppp/active user-1']);
      expect(find(router, '/ppp/active', { name: c.username })).to.deep.equal([]);
      router.sim.store.addPppSession(c.username);
      await applyCustomer(client, {
        ...c,
        password: 'changed',
        ipAddress: '10.64.9.9',
        plan: pppoePlan({ planId: 'p-fast', name: 'Fast 50M', downloadSpeed: '50M' }),
      });
      expect(find(router, '/ppp/active', { name: c.username })).to.deep.equal([]);
      expect(find(router, '/ppp/secret', { name: c.username })[0]).to.include({ profile: 'Fast 50M', 'remote-address': '10.64.9.9' });
    });

    it("removes a customer's entries and sessions, and removing again changes nothing", async () => {
      const ppp = customer('1', pppoePlan());
      const st = customer('3', staticPlan());
      await applyCustomer(client, ppp);
      await applyCustomer(client, st);
      router.sim.store.addPppSession(ppp.username);
      expect((await removeCustomer(client, ref(ppp))).changes).to.deep.equal(['remove /ppp/secret user-1', 'kick /ppp/active user-1']);
      expect((await removeCustomer(client, ref(st))).changes).to.have.length(2);
      expect(
        find(router, '/ppp/secret', {}).concat(
          find(router, '/queue/simple', {}),
          find(router, '/ip/firewall/address-list', {}),
          find(router, '/ppp/active', {}),
        ),
      ).to.deep.equal([]);
      const writes = router.sim.stats.writes;
      expect((await removeCustomer(client, ref(ppp))).changes).to.deep.equal([]);
      expect(router.sim.stats.writes).to.equal(writes);
    });

    it('disconnects a session and nothing else', async () => {
      const c = customer('1', pppoePlan());
      await applyCustomer(client, c);
      router.sim.store.addPppSession(c.username);
      expect((await disconnectCustomer(client, ref(c))).changes).to.deep.equal(['kick /ppp/active user-1']);
      expect(find(router, '/ppp/secret', { name: c.username })).to.have.length(1);
    });

    it('refuses to take over an entry marked for another customer', async () => {
      await applyCustomer(client, customer('1', pppoePlan()));
      let error: unknown;
      await applyCustomer(client, customer('2', pppoePlan(), { username: 'user-1' })).catch((e: unknown) => (error = e));
      expect(String(error)).to.contain('belongs to mtandao:1');
    });

    it('removes what a customer left behind under another connection type', async () => {
      const c = customer('1', pppoePlan());
      await applyCustomer(client, c);
      router.sim.store.addPppSession(c.username);
      await applyCustomer(client, { ...customer('1', staticPlan()), username: c.username });
      expect(find(router, '/ppp/secret', {})).to.deep.equal([]);
      expect(find(router, '/ppp/active', {})).to.deep.equal([]);
      expect(find(router, '/queue/simple', { comment: 'mtandao:1' })).to.have.length(1);
    });

    it("removes a plan's profile", async () => {
      await applyPlan(client, hotspotPlan());
      expect((await removePlan(client, 'p-day', 'hotspot')).changes).to.deep.equal(['remove /ip/hotspot/user/profile Day pass']);
      expect(find(router, '/ip/hotspot/user/profile', { comment: 'mtandao-plan:p-day' })).to.deep.equal([]);
    });
  });
}

describe('customer data that cannot reach a router', () => {
  it('refuses usernames with quotes, ;, $, [ ], \\ or a line break before any driver sees them', () => {
    for (const username of ['a"b', 'a;b', 'a$b', 'a[b]', 'a\\b', 'a\nb']) {
      expect(CustomerSchema.safeParse(customer('1', pppoePlan(), { username })).success, JSON.stringify(username)).to.equal(false);
    }
  });
});
