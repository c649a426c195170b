import type { ApplyResult, CustomerSpec } from '@mtandao/protocol';
import { expect } from 'chai';
import { openRouter } from '../src/drivers/index.ts';
import type { RouterClient } from '../src/drivers/types.ts';
import { applyCustomer, executeCommand, readback, reconcileRouter, ReconcileError } from '../src/reconcile/index.ts';
import { startRouter, type Router } from './helpers/sim-fixtures.ts';
import { customer, envelope, hotspotPlan, pppoePlan, staticPlan } from './helpers/sim-desired.ts';

const find = (router: Router, menu: string, where: Record<string, string>) =>
  router.sim.store.list(menu).filter((r) => Object.entries(where).every(([k, v]) => r[k] === v));

for (const transport of ['api', 'ssh'] as const) {
  describe(`reconciling a whole router over ${transport}`, () => {
    let router: Router;
    let client: RouterClient;
    const plans = [pppoePlan(), hotspotPlan(), staticPlan()];
    const customers = [customer('1', plans[0]!), customer('2', plans[0]!), customer('3', plans[1]!), customer('4', plans[2]!), customer('5', plans[2]!)];
    beforeEach(async () => {
      router = await startRouter(transport === 'api' ? { sshPort: null } : {});
      client = openRouter(router.config(transport));
      await reconcileRouter(client, { plans, customers });
    });
    afterEach(async () => {
      await client.close();
      await router.sim.stop();
    });

    it('creates everything on an empty router, then finds nothing to do', async () => {
      expect(find(router, '/ppp/secret', {})).to.have.length(2);
      expect(find(router, '/ip/firewall/address-list', { list: 'mtandao-active' })).to.have.length(2);
      const writes = router.sim.stats.writes;
      const again = await reconcileRouter(client, { plans, customers });
      expect(again.summary).to.deep.equal({ created: 0, updated: 0, removed: 0, unchanged: 9, kicked: 0, conflicts: 0, failed: 0 });
      expect(again.changes).to.deep.equal([]);
      expect(router.sim.stats.writes).to.equal(writes);
    });

    it('repairs drift: a deleted secret, a changed profile, a changed queue, an extra marked entry — and leaves unmarked entries alone', async () => {
      const store = router.sim.store;
      store.remove('/ppp/secret', store.resolve('/ppp/secret', ['user-1']));
      store.set('/ppp/profile', store.resolve('/ppp/profile', ['Home 10M']), { 'rate-limit': '1M/1M' });
      store.set('/queue/simple', store.resolve('/queue/simple', ['user-4']), { 'max-limit': '1M/1M' });
      store.add('/ppp/secret', { name: 'ghost', comment: 'mtandao:99' });
      store.addPppSession('ghost');
      store.add('/ppp/secret', { name: 'operator', password: 'theirs' });
      store.add('/ppp/secret', { name: 'noted', comment: 'installer: do not touch' });
      store.add('/ppp/profile', { name: 'old plan', comment: 'mtandao-plan:gone' });
      const unmarked = [...find(router, '/ppp/secret', { name: 'operator' }), ...find(router, '/ppp/secret', { name: 'noted' })];

      const result = await reconcileRouter(client, { plans, customers });
      expect(result.summary).to.include({ created: 1, updated: 2, removed: 2, kicked: 1, conflicts: 0, failed: 0 });
      expect(find(router, '/ppp/secret', { comment: 'mtandao:1' })).to.have.length(1);
      expect(find(router, '/ppp/profile', { name: 'Home 10M' })[0]?.['rate-limit']).to.equal('5M/10M');
      expect(find(router, '/queue/simple', { name: 'user-4' })[0]?.['max-limit']).to.equal('10000000/20000000');
      expect(find(router, '/ppp/secret', { name: 'ghost' })).to.deep.equal([]);
      expect(find(router, '/ppp/active', { name: 'ghost' })).to.deep.equal([]);
      expect(find(router, '/ppp/profile', { name: 'old plan' })).to.deep.equal([]);
      expect([...find(router, '/ppp/secret', { name: 'operator' }), ...find(router, '/ppp/secret', { name: 'noted' })]).to.deep.equal(unmarked);
    });

    it('reports an unmarked entry in the way as a conflict and leaves it alone', async () => {
      router.sim.store.add('/ppp/secret', { name: 'user-6', password: 'theirs' });
      const result = await reconcileRouter(client, { plans, customers: [...customers, customer('6', plans[0]!)] });
      expect(result.summary).to.include({ conflicts: 1, created: 0 });
      expect(result.changes).to.deep.equal(['conflict /ppp/secret user-6: held by an entry without a marker, left alone']);
      expect(find(router, '/ppp/secret', { name: 'user-6' })[0])
        .to.include({ password: 'theirs' })
        .and.not.have.property('comment');
    });

    it('disables customers who are not active and drops their sessions', async () => {
      router.sim.store.addPppSession('user-2');
      router.sim.store.addHotspotSession('user-3');
      const suspended = customers.map((c) => (c.customerId === '2' || c.customerId === '3' ? { ...c, status: 'expired' as const } : c));
      const result = await reconcileRouter(client, { plans, customers: suspended });
      expect(result.summary).to.include({ updated: 2, kicked: 2 });
      expect(find(router, '/ppp/secret', { name: 'user-2' })[0]?.disabled).to.equal('true');
      expect(find(router, '/ppp/active', {}).concat(find(router, '/ip/hotspot/active', {}))).to.deep.equal([]);
    });

    it('leaves extra marked entries when told not to prune', async () => {
      const result = await reconcileRouter(client, { plans, customers: customers.slice(0, 2) }, { prune: false });
      expect(result.summary).to.include({ removed: 0 });
      expect(find(router, '/queue/simple', { comment: 'mtandao:4' })).to.have.length(1);
    });

    it('writes everything it can, then throws with the summary when some writes failed', async () => {
      const broken = { ...customer('7', plans[2]!), ipAddress: undefined } as CustomerSpec;
      let error: unknown;
      await reconcileRouter(client, { plans, customers: [...customers, broken, customer('8', plans[0]!)] }).catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(ReconcileError);
      expect((error as ReconcileError).result.summary).to.include({ failed: 1, created: 1 });
      expect(find(router, '/ppp/secret', { name: 'user-8' })).to.have.length(1);
    });

    it('reads managed entries back a page at a time, without passwords', async () => {
      router.sim.store.add('/ppp/secret', { name: 'operator' });
      const first = await readback(client, { offset: 0, limit: 4 });
      const second = await readback(client, { offset: 4, limit: 100 });
      expect(first.total).to.equal(9);
      expect(first.entries).to.have.length(4);
      expect(second.entries).to.have.length(5);
      const all = [...(first.entries ?? []), ...(second.entries ?? [])];
      expect(all.map((e) => e.comment)).to.have.members([
        'mtandao-plan:p-home',
        'mtandao-plan:p-day',
        'mtandao:1',
        'mtandao:2',
        'mtandao:3',
        'mtandao:4',
        'mtandao:4',
        'mtandao:5',
        'mtandao:5',
      ]);
      for (const e of all) expect(e.props).to.not.have.property('password');
    });
  });
}

describe('executing command envelopes', () => {
  let router: Router;
  let client: RouterClient;
  before(async () => {
    router = await startRouter({ sshPort: null });
    client = openRouter(router.config('api'));
  });
  after(async () => {
    await client.close();
    await router.sim.stop();
  });

  it('dispatches every allow-listed command type', async () => {
    const c = customer('1', pppoePlan());
    const ref = { customerId: '1', connectionType: 'pppoe' as const, username: c.username };
    const run = (e: Parameters<typeof executeCommand>[1]): Promise<ApplyResult> => executeCommand(client, e);
    expect((await run(envelope('plan.apply', { router: 'r1', plan: pppoePlan() }))).changes).to.deep.equal(['add /ppp/profile Home 10M']);
    expect((await run(envelope('customer.apply', { router: 'r1', customer: c }))).changes).to.deep.equal(['add /ppp/secret user-1']);
    router.sim.store.addPppSession(c.username);
    expect((await run(envelope('customer.disconnect', { router: 'r1', customer: ref }))).changes).to.deep.equal(['kick /ppp/active user-1']);
    expect((await run(envelope('router.readback', { router: 'r1', offset: 0, limit: 10 }))).total).to.equal(2);
    const reconciled = await run(
      envelope('router.reconcile', { router: 'r1', reconcileId: 'r-1', chunk: { index: 0, count: 1 }, plans: [pppoePlan()], customers: [c] }),
    );
    expect(reconciled.summary).to.include({ unchanged: 2 });
    expect((await run(envelope('router.health', { router: 'r1' }))).health).to.include({
      name: 'r1',
      reachable: true,
      version: '7.18.2 (stable)',
      identity: 'test-router',
    });
    expect((await run(envelope('customer.remove', { router: 'r1', customer: ref }))).changes).to.deep.equal(['remove /ppp/secret user-1']);
    expect((await run(envelope('plan.remove', { router: 'r1', planId: 'p-home', connectionType: 'pppoe' }))).changes).to.deep.equal([
      'remove /ppp/profile Home 10M',
    ]);
  });

  it('refuses a command for another router, and a reconcile still in chunks', async () => {
    await executeCommand(client, envelope('router.health', { router: 'elsewhere' })).then(
      () => expect.fail('accepted'),
      (e: Error) => expect(e.message).to.contain('for router elsewhere'),
    );
    await executeCommand(
      client,
      envelope('router.reconcile', { router: 'r1', reconcileId: 'r-2', chunk: { index: 0, count: 2 }, plans: [], customers: [] }),
    ).then(
      () => expect.fail('accepted'),
      (e: Error) => expect(e.message).to.contain('gather them'),
    );
  });

  it('reports an unreachable router as a health result, not an error', async () => {
    router.sim.setDown(true);
    const { health } = await executeCommand(client, envelope('router.health', { router: 'r1' }));
    router.sim.setDown(false);
    expect(health).to.include({ name: 'r1', reachable: false });
    expect(health?.error).to.be.a('string');
  });
});

describe('reconcile at scale', () => {
  it('reconciles 10 000 PPPoE customers with 10 % drift at 20 ms round trip (speed is in npm run bench)', async function () {
    this.timeout(30_000);
    const router = await startRouter({ sshPort: null });
    const plan = pppoePlan();
    const customers = Array.from({ length: 10_000 }, (_, i) => customer(String(i), plan, { ipAddress: `10.64.${Math.floor(i / 250)}.${(i % 250) + 2}` }));
    const store = router.sim.store;
    store.add('/ppp/profile', { name: plan.name, 'rate-limit': '5M/10M', 'local-address': '10.64.0.1', comment: 'mtandao-plan:p-home' });
    customers.forEach((c, i) => {
      if (i % 20 === 0) return; // 5 % deleted
      const drifted = i % 20 === 1; // 5 % with a changed password
      store.add('/ppp/secret', {
        name: c.username,
        password: drifted ? 'drift' : c.password,
        service: 'pppoe',
        profile: plan.name,
        'remote-address': c.ipAddress ?? '',
        comment: `mtandao:${c.customerId}`,
      });
    });
    router.sim.setLatency(20);
    // a thousand writes in one pipeline: on a loaded machine the last answer can take longer than a lone command's 3 s
    const client = openRouter(router.config('api', { timeoutMs: 25_000 }));
    const result = await reconcileRouter(client, { plans: [plan], customers });
    expect(result.summary).to.include({ created: 500, updated: 500, failed: 0 });
    expect(await applyCustomer(client, customers[0] as CustomerSpec)).to.deep.equal({ changes: [] });
    await client.close();
    await router.sim.stop();
  });
});
