import { expect } from 'chai';
import { openRouter } from '../src/drivers/index.ts';
import { RouterError, type RouterClient } from '../src/drivers/types.ts';
import { adoptionScan, adoptMark } from '../src/reconcile/adoption.ts';
import { startRouter, type Router } from './helpers/sim-fixtures.ts';

/** The rows of a menu without the fields the clock changes. */
const rows = (router: Router, menu: string) => router.sim.store.list(menu).map(({ 'creation-time': _t, uptime: _u, ...r }) => r);

for (const transport of ['api', 'ssh'] as const) {
  describe(`import from router: scan and mark, over ${transport} (SPEC section 13)`, () => {
    let router: Router;
    let client: RouterClient;
    before(async () => {
      router = await startRouter(transport === 'api' ? { sshPort: null } : {});
      client = openRouter(router.config(transport));
      router.sim.store.add('/ppp/profile', { name: 'gold', 'rate-limit': '5M/10M' });
      router.sim.store.add('/ppp/secret', {
        name: 'alice',
        password: 'a "quoted" $pw\\',
        service: 'pppoe',
        profile: 'gold',
        'remote-address': '10.64.0.5',
        comment: 'Alice 0712345678',
      });
      router.sim.store.add('/ppp/secret', { name: 'bob', password: 'bobs', service: 'pppoe', comment: 'mtandao:77' });
      router.sim.store.add('/ip/hotspot/user', { name: 'guest', password: 'g' });
      router.sim.store.add('/queue/simple', { name: 'shop', target: '10.65.0.3/32', 'max-limit': '2M/4M' });
    });
    after(async () => {
      await client.close();
      await router.sim.stop();
    });

    it('lists only the entries without a marker, passwords included, and writes nothing', async () => {
      const before = rows(router, '/ppp/secret');
      const result = await adoptionScan(client);
      const names = result.found!.map((f) => `${f.menu} ${f.name}`);
      expect(names).to.include.members(['/ppp/profile gold', '/ppp/secret alice', '/ip/hotspot/user guest', '/queue/simple shop']);
      expect(names).to.not.include('/ppp/secret bob');
      expect(result.found!.find((f) => f.name === 'alice')!.props).to.include({ password: 'a "quoted" $pw\\', profile: 'gold' });
      expect(result.total).to.equal(result.found!.length);
      const page = await adoptionScan(client, { offset: 1, limit: 2 });
      expect(page.found!.map((f) => f.id)).to.deep.equal(result.found!.slice(1, 3).map((f) => f.id));
      expect(rows(router, '/ppp/secret')).to.deep.equal(before);
    });

    it('keeps a page inside the frame limit, and the pages cover every entry', async () => {
      for (let i = 0; i < 400; i++) router.sim.store.add('/ppp/secret', { name: `bulk${i}`, password: 'p', service: 'pppoe', comment: 'x'.repeat(900) });
      const total = (await adoptionScan(client, { limit: 1 })).total!;
      const seen = new Set<string>();
      for (let offset = 0; offset < total;) {
        const page = await adoptionScan(client, { offset, limit: 300 });
        expect(JSON.stringify(page).length).to.be.below(200 * 1024);
        for (const f of page.found!) seen.add(`${f.menu} ${f.id}`);
        offset += page.found!.length;
      }
      expect(seen.size).to.equal(total);
      expect([...seen].filter((k) => k.startsWith('/ppp/secret')).length).to.equal(401); // alice and the 400
      router.sim.store.remove(
        '/ppp/secret',
        router.sim.store
          .list('/ppp/secret')
          .filter((r) => r.name?.startsWith('bulk'))
          .map((r) => r['.id']!),
      );
    });

    it('marks an adopted secret by its comment alone: password, profile and address stay', async () => {
      const alice = rows(router, '/ppp/secret').find((r) => r.name === 'alice')!;
      const result = await adoptMark(client, { marks: [{ menu: '/ppp/secret', id: alice['.id']!, name: 'alice', marker: 'mtandao:5' }] });
      expect(result.summary).to.include({ marked: 1 });
      const after = rows(router, '/ppp/secret').find((r) => r.name === 'alice')!;
      expect(after).to.deep.equal({ ...alice, comment: 'mtandao:5' });
      // marking again is nothing to do
      expect((await adoptMark(client, { marks: [{ menu: '/ppp/secret', id: alice['.id']!, name: 'alice', marker: 'mtandao:5' }] })).summary).to.include({
        unchanged: 1,
      });
    });

    it('refuses to mark an entry renamed since the scan or managed already, and marks the others', async () => {
      const guest = rows(router, '/ip/hotspot/user').find((r) => r.name === 'guest')!;
      const bob = rows(router, '/ppp/secret').find((r) => r.name === 'bob')!;
      const shop = rows(router, '/queue/simple').find((r) => r.name === 'shop')!;
      let error: unknown;
      await adoptMark(client, {
        marks: [
          { menu: '/ip/hotspot/user', id: guest['.id']!, name: 'not-guest', marker: 'mtandao:6' },
          { menu: '/ppp/secret', id: bob['.id']!, name: 'bob', marker: 'mtandao:8' },
          { menu: '/queue/simple', id: shop['.id']!, name: 'shop', marker: 'mtandao:9' },
        ],
      }).catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(RouterError);
      expect((error as Error).message).to.match(/^2 of 3 entries not marked/);
      expect(rows(router, '/ip/hotspot/user').find((r) => r.name === 'guest')).to.deep.equal(guest);
      expect(rows(router, '/ppp/secret').find((r) => r.name === 'bob')!.comment).to.equal('mtandao:77');
      expect(rows(router, '/queue/simple').find((r) => r.name === 'shop')).to.deep.equal({ ...shop, comment: 'mtandao:9' });
    });
  });
}
