import { expect } from 'chai';
import type { CustomerSpec, PlanSpec } from '@mtandao/protocol';
import { openRouter } from '../src/drivers/index.ts';
import { RouterError, type RouterClient } from '../src/drivers/types.ts';
import { applyCustomer, applyPlan, reconcileRouter } from '../src/reconcile/index.ts';
import { startRouter, type Router } from './helpers/sim-fixtures.ts';
import { customer, hotspotPlan, pppoePlan, staticPlan } from './helpers/sim-desired.ts';

/** One menu's case: an unmarked entry of the name Mtandao wants, and what would want it. */
interface Case {
  menu: string;
  /** What the owner of the router put there by hand. */
  unmarked: Record<string, string>;
  /** The desired state that needs the same name. */
  apply: (client: RouterClient) => Promise<unknown>;
  /** The same for a customer the controller says is new (its entries are added straight away). */
  fresh?: (client: RouterClient) => Promise<unknown>;
  desired: { plans: PlanSpec[]; customers: CustomerSpec[] };
  message: string;
}

const alicePpp = customer('1', pppoePlan(), { username: 'alice', ipAddress: '10.64.0.5' });
const aliceHs = customer('2', hotspotPlan(), { username: 'alice' });
const bizQueue = customer('3', staticPlan(), { username: 'shop', ipAddress: '10.65.0.3' });

const CASES: Case[] = [
  {
    menu: '/ppp/secret',
    unmarked: { name: 'alice', password: 'theirs', service: 'pppoe' },
    apply: (c) => applyCustomer(c, alicePpp),
    fresh: (c) => applyCustomer(c, alicePpp, { fresh: true }),
    desired: { plans: [pppoePlan()], customers: [alicePpp] },
    message: '/ppp/secret alice exists on the router but is not managed by Mtandao',
  },
  {
    menu: '/ppp/profile',
    unmarked: { name: 'Home 10M', 'rate-limit': '1M/1M' },
    apply: (c) => applyPlan(c, pppoePlan()),
    desired: { plans: [pppoePlan()], customers: [] },
    message: '/ppp/profile Home 10M exists on the router but is not managed by Mtandao',
  },
  {
    menu: '/ip/hotspot/user',
    unmarked: { name: 'alice', password: 'theirs' },
    apply: (c) => applyCustomer(c, aliceHs),
    fresh: (c) => applyCustomer(c, aliceHs, { fresh: true }),
    desired: { plans: [hotspotPlan()], customers: [aliceHs] },
    message: '/ip/hotspot/user alice exists on the router but is not managed by Mtandao',
  },
  {
    menu: '/ip/hotspot/user/profile',
    unmarked: { name: 'Day pass', 'rate-limit': '1M/1M' },
    apply: (c) => applyPlan(c, hotspotPlan()),
    desired: { plans: [hotspotPlan()], customers: [] },
    message: '/ip/hotspot/user/profile Day pass exists on the router but is not managed by Mtandao',
  },
  {
    menu: '/queue/simple',
    unmarked: { name: 'shop', target: '10.65.0.99/32', 'max-limit': '1M/1M' },
    apply: (c) => applyCustomer(c, bizQueue),
    fresh: (c) => applyCustomer(c, bizQueue, { fresh: true }),
    desired: { plans: [staticPlan()], customers: [bizQueue] },
    message: '/queue/simple shop exists on the router but is not managed by Mtandao',
  },
  {
    menu: '/ip/firewall/address-list',
    unmarked: { list: 'mtandao-active', address: '10.65.0.3' },
    apply: (c) => applyCustomer(c, bizQueue),
    fresh: (c) => applyCustomer(c, bizQueue, { fresh: true }),
    desired: { plans: [staticPlan()], customers: [bizQueue] },
    message: '/ip/firewall/address-list 10.65.0.3 exists on the router but is not managed by Mtandao',
  },
];

/** The rows of a menu without the fields the clock changes. */
const rows = (router: Router, menu: string) => router.sim.store.list(menu).map(({ 'creation-time': _t, uptime: _u, ...r }) => r);

for (const transport of ['api', 'ssh'] as const) {
  describe(`entries without the Mtandao marker, over ${transport} (SPEC section 7)`, () => {
    let router: Router;
    let client: RouterClient;
    before(async () => {
      router = await startRouter(transport === 'api' ? { sshPort: null } : {});
    });
    beforeEach(() => {
      client = openRouter(router.config(transport));
    });
    afterEach(async () => {
      await client.close();
      for (const menu of [
        '/ppp/active',
        '/ppp/secret',
        '/ppp/profile',
        '/ip/hotspot/user',
        '/ip/hotspot/user/profile',
        '/queue/simple',
        '/ip/firewall/address-list',
      ]) {
        const ids = router.sim.store
          .list(menu)
          .filter((r) => r.default !== 'true' && r.name !== 'default' && r.name !== 'default-encryption')
          .map((r) => r['.id']!);
        if (ids.length > 0) router.sim.store.remove(menu, ids);
      }
    });
    after(() => router.sim.stop());

    for (const c of CASES) {
      it(`fails the job on an unmarked ${c.menu} entry of the same name and leaves it as it was`, async () => {
        router.sim.store.add(c.menu, c.unmarked);
        const before = rows(router, c.menu);
        let error: unknown;
        await c.apply(client).catch((e: unknown) => (error = e));
        expect(error, 'the apply must fail').to.be.instanceOf(RouterError);
        expect((error as RouterError).message).to.equal(c.message);
        expect((error as RouterError).retryable).to.equal(false);
        expect(rows(router, c.menu)).to.deep.equal(before);
      });

      if (c.fresh) {
        const fresh = c.fresh;
        it(`fails a new customer's one-round add on an unmarked ${c.menu} entry, leaving it as it was and nothing of the customer behind`, async () => {
          await applyPlan(client, c.desired.plans[0]!); // the profile is known: the add goes straight out
          router.sim.store.add(c.menu, c.unmarked);
          const before = rows(router, c.menu);
          let error: unknown;
          await fresh(client).catch((e: unknown) => (error = e));
          expect((error as RouterError | undefined)?.message).to.equal(c.message);
          expect(rows(router, c.menu)).to.deep.equal(before);
          const id = c.desired.customers[0]!.customerId;
          for (const menu of ['/ppp/secret', '/ip/hotspot/user', '/queue/simple', '/ip/firewall/address-list'])
            expect(
              router.sim.store.list(menu).filter((r) => r.comment === `mtandao:${id}`),
              menu,
            ).to.deep.equal([]);
        });
      }

      it(`reconcile leaves an unmarked ${c.menu} entry alone and reports the conflict`, async () => {
        router.sim.store.add(c.menu, c.unmarked);
        const before = rows(router, c.menu);
        const result = await reconcileRouter(client, c.desired);
        expect(result.summary?.conflicts).to.be.greaterThan(0);
        expect(rows(router, c.menu)).to.deep.equal(before);
      });
    }

    it('reconcile leaves the sessions of an unmarked namesake alone, even for a suspended customer', async () => {
      router.sim.store.add('/ppp/secret', { name: 'alice', password: 'theirs', service: 'pppoe' });
      router.sim.store.addPppSession('alice');
      const result = await reconcileRouter(client, { plans: [pppoePlan()], customers: [{ ...alicePpp, status: 'suspended' }] });
      expect(result.summary).to.include({ conflicts: 1, kicked: 0 });
      expect(router.sim.store.list('/ppp/active').map((s) => s.name)).to.deep.equal(['alice']);
    });

    it('fails with the same message when an unmarked entry appears between the read and the add', async () => {
      await applyPlan(client, pppoePlan());
      const racing: RouterClient = {
        name: client.name,
        print: (menu, options) => client.print(menu, options),
        add: async (menu, props) => {
          if (menu === '/ppp/secret') router.sim.store.add('/ppp/secret', { name: props.name ?? '', password: 'theirs' });
          return client.add(menu, props);
        },
        set: (menu, id, props) => client.set(menu, id, props),
        remove: (menu, id) => client.remove(menu, id),
        health: () => client.health(),
        close: () => client.close(),
      };
      let error: unknown;
      await applyCustomer(racing, alicePpp).catch((e: unknown) => (error = e));
      expect(String((error as Error | undefined)?.message)).to.equal('/ppp/secret alice exists on the router but is not managed by Mtandao');
      expect(router.sim.store.list('/ppp/secret').find((r) => r.name === 'alice'))
        .to.include({ password: 'theirs' })
        .and.not.have.property('comment');
    });
  });
}
