import { expect } from 'chai';
import type { VouchersApplyPayload } from '@mtandao/protocol';
import { openRouter } from '../src/drivers/index.ts';
import { RouterError, type RouterClient } from '../src/drivers/types.ts';
import { applyVouchers, readHotspot, reconcileRouter, setupHotspot } from '../src/reconcile/index.ts';
import { startRouter, type Router } from './helpers/sim-fixtures.ts';
import { hotspotPlan } from './helpers/sim-desired.ts';

const batch = (ids: number[], extra: Partial<VouchersApplyPayload> = {}): VouchersApplyPayload => ({
  router: 'r1',
  plan: hotspotPlan(),
  add: ids.map((i) => ({ voucherId: String(i), code: `V${String(i).padStart(7, '0')}`, limitUptimeSeconds: 86_400 })),
  remove: [],
  ...extra,
});

for (const transport of ['api', 'ssh'] as const) {
  describe(`hotspot vouchers, walled garden and status, over ${transport}`, () => {
    let router: Router;
    let client: RouterClient;
    before(async () => {
      router = await startRouter(transport === 'api' ? { sshPort: null } : {});
    });
    beforeEach(() => {
      client = openRouter(router.config(transport));
    });
    afterEach(() => client.close());
    after(() => router.sim.stop());

    const users = () => router.sim.store.list('/ip/hotspot/user');

    it('adds a batch of vouchers with the plan profile and limits, and a second apply writes nothing', async () => {
      const first = await applyVouchers(client, batch([1, 2, 3, 4, 5]));
      expect(first.summary).to.include({ created: 5 });
      expect(first.changes).to.deep.equal(['add /ip/hotspot/user/profile Day pass', 'add 5 voucher users to /ip/hotspot/user']);
      expect(users().find((u) => u.name === 'V0000001')).to.include({
        password: 'V0000001',
        profile: 'Day pass',
        'limit-uptime': '1d',
        comment: 'mtandao-voucher:1',
      });
      const writes = router.sim.stats.writes;
      const again = await applyVouchers(client, batch([1, 2, 3, 4, 5]));
      expect(again.summary).to.include({ created: 0, unchanged: 5 });
      expect(router.sim.stats.writes).to.equal(writes);
    });

    it('refuses to take over an unmarked user of the same name, and leaves it as it was', async () => {
      router.sim.store.add('/ip/hotspot/user', { name: 'V0000009', password: 'theirs' });
      let error: unknown;
      await applyVouchers(client, batch([9])).catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(RouterError);
      expect((error as Error).message).to.equal('/ip/hotspot/user V0000009 exists on the router but is not managed by Mtandao');
      expect(users().find((u) => u.name === 'V0000009'))
        .to.include({ password: 'theirs' })
        .and.not.have.property('comment');
    });

    it('removes an expired voucher and drops its session', async () => {
      const login = router.sim.hotspot.login({ mac: '02:00:00:00:00:31', ip: '10.5.50.31' }, { username: 'V0000002', password: 'V0000002' });
      expect(login).to.have.property('session');
      await applyVouchers(client, batch([], { remove: [{ voucherId: '2', code: 'V0000002' }] }));
      expect(users().some((u) => u.name === 'V0000002')).to.equal(false);
      expect(router.sim.store.list('/ip/hotspot/active')).to.have.length(0);
    });

    it("a customer reconcile with pruning leaves vouchers' users alone", async () => {
      await reconcileRouter(client, { plans: [hotspotPlan()], customers: [] }, { prune: true });
      expect(users().filter((u) => (u.comment ?? '').startsWith('mtandao-voucher:'))).to.have.length(4);
    });

    it('keeps exactly the portal hosts among marked walled-garden entries, and no other entry is touched', async () => {
      router.sim.store.add('/ip/hotspot/walled-garden', { 'dst-host': 'bank.example', comment: 'the owner’s' });
      router.sim.store.add('/ip/hotspot/walled-garden', { 'dst-host': 'old-portal.example', comment: 'mtandao-portal' });
      await setupHotspot(client, ['portal.example.net']);
      const rows = router.sim.store.list('/ip/hotspot/walled-garden').map((r) => [r['dst-host'], r.comment]);
      expect(rows).to.deep.equal([
        ['bank.example', 'the owner’s'],
        ['portal.example.net', 'mtandao-portal'],
      ]);
      const writes = router.sim.stats.writes;
      await setupHotspot(client, ['portal.example.net']);
      expect(router.sim.stats.writes).to.equal(writes);
    });

    it('reads who is online and the used vouchers in one go', async () => {
      const r = router.sim.hotspot.login({ mac: '02:00:00:00:00:32', ip: '10.5.50.32' }, { username: 'V0000003', password: 'V0000003' });
      if (!('session' in r)) throw new Error(r.error);
      router.sim.hotspot.advance(r.session['.id']!, { seconds: 120, bytesIn: 2048, bytesOut: 512 });
      const [report, ...more] = await readHotspot(client);
      expect(more).to.have.length(0);
      expect(report!.active).to.have.length(1);
      expect(report!.vouchersOnRouter).to.equal(4);
      expect(report!.active[0]).to.deep.include({ user: 'V0000003', macAddress: '02:00:00:00:00:32', address: '10.5.50.32', bytesIn: 2048, bytesOut: 512 });
      expect(report!.active[0]!.uptimeSeconds).to.be.at.least(120);
      // only users that were used are reported
      expect(report!.users).to.deep.equal([{ name: 'V0000003', comment: 'mtandao-voucher:3', uptimeSeconds: 120, bytesIn: 2048, bytesOut: 512 }]);
    });
  });
}
