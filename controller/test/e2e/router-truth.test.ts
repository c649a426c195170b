import { expect } from 'chai';
import { expectStatus } from '../helpers/client.ts';
import { allApplied, eventually, startStack, type Stack } from '../helpers/stack.ts';

type Body = Record<string, unknown>;
const UNMANAGED = 'exists on the router but is not managed by Mtandao';

/** The router holds what the controller says (issue 11, items 1–3). */
describe('the router holds what the controller says (controller → agent → emulated router)', function () {
  this.timeout(120_000);

  describe('a plan edit reaches every entry that depends on it', () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack();
      await stack.startAgentInProcess();
      await allApplied(stack.api);
    });
    after(async () => stack?.stop());

    it("a Static plan's new speed lands on the simple queue of every customer on it", async () => {
      const { api, fx, world } = stack;
      const ids: string[] = [];
      for (const [i, ip] of ['172.16.10.3', '172.16.10.4'].entries()) {
        ids.push(
          (
            expectStatus(
              await api.post('/customers', fx.customerBody(world.static.id as string, { connectionType: 'static', ipAddress: ip, username: `queue${i}` })),
              201,
            ) as Body
          ).id as string,
        );
      }
      await allApplied(api);
      const queues = () => stack.sim.store.list('/queue/simple').filter((q) => ids.some((id) => q.comment === `mtandao:${id}`));
      expect(queues().map((q) => q['max-limit'])).to.deep.equal(['5000000/10000000', '5000000/10000000']);
      expectStatus(await api.patch(`/plans/${world.static.id}`, { downloadSpeed: '40M', uploadSpeed: '8M' }), 200);
      await eventually(async () => (queues().every((q) => q['max-limit'] === '8000000/40000000') ? true : undefined), 'the new max-limit on every queue');
      await allApplied(api);
    });

    it("a Hotspot plan's new data limit lands on every user of it", async () => {
      const { api, fx, world } = stack;
      const c = expectStatus(
        await api.post('/customers', fx.customerBody(world.hotspot.id as string, { connectionType: 'hotspot', username: 'hs.limit' })),
        201,
      ) as Body;
      await allApplied(api);
      const user = () => stack.sim.store.list('/ip/hotspot/user').find((u) => u.comment === `mtandao:${c.id}`);
      expect(user()?.['limit-bytes-total']).to.equal('0');
      expectStatus(await api.patch(`/plans/${world.hotspot.id}`, { dataLimit: 5_000_000_000 }), 200);
      await eventually(async () => (user()?.['limit-bytes-total'] === '5000000000' ? true : undefined), 'the new data limit on the user');
      await allApplied(api);
    });

    it("a renamed PPPoE plan's secrets follow the profile to its new name", async () => {
      const { api, fx, world } = stack;
      const c = expectStatus(
        await api.post('/customers', fx.customerBody(world.pppoe.id as string, { ipAddress: '10.64.7.1', username: 'renamed.plan' })),
        201,
      ) as Body;
      await allApplied(api);
      expectStatus(await api.patch(`/plans/${world.pppoe.id}`, { name: 'Home renamed' }), 200);
      const secret = () => stack.sim.store.list('/ppp/secret').find((s) => s.comment === `mtandao:${c.id}`);
      await eventually(async () => (secret()?.profile === 'Home renamed' ? true : undefined), 'the secret on the renamed profile');
      await allApplied(api);
    });
  });

  for (const transport of ['api', 'ssh'] as const) {
    it(`never takes over an unmarked secret of the same name (over ${transport}): the job fails, the customer's page says why`, async () => {
      const stack = await startStack({ transport });
      try {
        await stack.startAgentInProcess();
        await allApplied(stack.api);
        stack.sim.store.add('/ppp/secret', { name: 'alice', password: 'the-isp-owners', service: 'pppoe' });
        const c = expectStatus(
          await stack.api.post('/customers', stack.fx.customerBody(stack.world.pppoe.id as string, { ipAddress: '10.64.7.9', username: 'alice' })),
          201,
        ) as Body;
        const job = await eventually(async () => {
          const items = (expectStatus(await stack.api.get(`/provisioning/jobs?customerId=${c.id}`), 200) as { items: Body[] }).items;
          return items[0]?.status === 'failed' ? items[0] : undefined;
        }, 'the failed job');
        expect(job.lastError).to.contain(`/ppp/secret alice ${UNMANAGED}`);
        const detail = expectStatus(await stack.api.get(`/provisioning/jobs/${job.id}`), 200) as { events: Body[] };
        expect(detail.events.some((e) => String(e.message).includes(`/ppp/secret alice ${UNMANAGED}`))).to.equal(true);
        const view = expectStatus(await stack.api.get(`/customers/${c.id}`), 200) as { latestJob: Body };
        expect(view.latestJob).to.include({ status: 'failed' });
        expect(view.latestJob.lastError).to.contain(`/ppp/secret alice ${UNMANAGED}`);
        const secrets = stack.sim.store.list('/ppp/secret').filter((s) => s.name === 'alice');
        expect(secrets).to.have.length(1);
        expect(secrets[0]).to.include({ password: 'the-isp-owners' }).and.not.have.property('comment');
      } finally {
        await stack.stop();
      }
    });
  }

  describe('a router that comes back empty is rebuilt', () => {
    const managed = (stack: Stack) =>
      ['/ppp/profile', '/ppp/secret', '/ip/hotspot/user/profile', '/queue/simple', '/ip/firewall/address-list']
        .flatMap((m) =>
          stack.sim.store
            .list(m)
            .filter((r) => (r.comment ?? '').startsWith('mtandao'))
            .map((r) => `${m} ${r.name ?? r.address}`),
        )
        .sort();
    const reconciles = async (stack: Stack) =>
      (expectStatus(await stack.api.get(`/provisioning/jobs?pageSize=200&routerId=${stack.world.router.id}`), 200) as { items: Body[] }).items.filter(
        (j) => j.type === 'router.reconcile',
      );

    /** The next health report that reaches the router (the first after a reboot may meet the dropped connection). */
    const reportReachable = (stack: Stack) =>
      eventually(async () => ((await stack.agent!.reportHealth())[0]?.reachable ? true : undefined), 'a health report from the router');

    /** A stack with a PPPoE and a Static customer on the router, health read at least a second after boot. */
    async function populated(env: Record<string, string> = {}, transport: 'api' | 'ssh' = 'api'): Promise<{ stack: Stack; before: string[] }> {
      const stack = await startStack({ env, transport });
      await stack.startAgentInProcess({ healthIntervalMs: 600_000 });
      const { api, fx, world } = stack;
      expectStatus(await api.post('/customers', fx.customerBody(world.pppoe.id as string, { ipAddress: '10.64.8.1', username: 'back.ppp' })), 201);
      expectStatus(
        await api.post(
          '/customers',
          fx.customerBody(world.static.id as string, { connectionType: 'static', ipAddress: '172.16.10.11', username: 'back.static' }),
        ),
        201,
      );
      await allApplied(api);
      await new Promise((r) => setTimeout(r, 1100)); // uptime is counted in whole seconds
      await stack.agent!.reportHealth();
      await eventually(
        async () => ((expectStatus(await api.get(`/routers/${world.router.id}`), 200) as { health: Body }).health.identity ? true : undefined),
        'the first health report',
      );
      const before = managed(stack);
      expect(before).to.have.length(5);
      return { stack, before };
    }

    it('a router restored from an old backup (same name, uptime back to zero) is reconciled at the next health report', async () => {
      const { stack, before } = await populated();
      try {
        stack.sim.reboot({ empty: true, identity: 'test-router' });
        expect(managed(stack)).to.deep.equal([]);
        await reportReachable(stack);
        await eventually(async () => (managed(stack).length === before.length ? true : undefined), 'the router rebuilt');
        expect(managed(stack)).to.deep.equal(before);
        const jobs = await reconciles(stack);
        expect(jobs.some((j) => /router restarted/.test(String(j.reason)))).to.equal(true);
      } finally {
        await stack.stop();
      }
    });

    it('a replaced router (factory identity) is reconciled, and a plain health tick queues nothing', async () => {
      const { stack, before } = await populated();
      try {
        const count = (await reconciles(stack)).length;
        await stack.agent!.reportHealth();
        await new Promise((r) => setTimeout(r, 300));
        expect((await reconciles(stack)).length, 'nothing changed: no reconcile').to.equal(count);
        stack.sim.reboot({ empty: true });
        await reportReachable(stack);
        await eventually(async () => (managed(stack).length === before.length ? true : undefined), 'the router rebuilt');
        const jobs = await reconciles(stack);
        expect(jobs.some((j) => /identity changed from "test-router" to "MikroTik"/.test(String(j.reason)))).to.equal(true);
      } finally {
        await stack.stop();
      }
    });

    for (const transport of ['api', 'ssh'] as const) {
      it(`a router whose entries were removed without a restart is reconciled at the next health report (over ${transport})`, async () => {
        const { stack, before } = await populated({}, transport);
        try {
          const { api, sim, world } = stack;
          // someone ran `/ppp secret remove [find]` and `/queue simple remove [find]`: no reboot, same identity
          for (const menu of ['/ppp/secret', '/queue/simple'])
            sim.store.remove(
              menu,
              sim.store.list(menu).map((r) => r['.id']!),
            );
          expect(managed(stack)).to.have.length(before.length - 2);
          const count = (await reconciles(stack)).length;
          const report = (await stack.agent!.reportHealth())[0]!;
          expect(report).to.include({ reachable: true, identity: 'test-router' });
          expect(report.entries).to.include({ '/ppp/secret': 0, '/queue/simple': 0, '/ip/firewall/address-list': 1 });
          await eventually(async () => (managed(stack).length === before.length ? true : undefined), 'the entries back');
          expect(managed(stack)).to.deep.equal(before);
          const jobs = await reconciles(stack);
          expect(jobs).to.have.length(count + 1);
          expect(jobs.map((j) => j.reason)).to.include(
            'the router holds 0 PPPoE secrets, 1 were applied; the router holds 0 simple queues, 1 were applied: entries went missing',
          );
          await allApplied(api);
          const health = (expectStatus(await api.get(`/routers/${world.router.id}`), 200) as { health: Body }).health;
          expect(health.reachable).to.equal(true);
        } finally {
          await stack.stop();
        }
      });
    }

    it('the periodic drift check repairs a router nobody asked about, and only reads when nothing drifted', async () => {
      const { stack, before } = await populated({ MTANDAO_DRIFT_CHECK_MINUTES: '0.05', MTANDAO_RECONCILE_THROTTLE_SECONDS: '0' });
      try {
        const drift = async () => (await reconciles(stack)).filter((j) => j.reason === 'periodic drift check');
        await eventually(async () => ((await drift()).some((j) => j.status === 'applied') ? true : undefined), 'a drift check', 20_000);
        const writes = stack.sim.stats.writes;
        const seen = (await drift()).length;
        await eventually(async () => ((await drift()).filter((j) => j.status === 'applied').length > seen ? true : undefined), 'another drift check', 20_000);
        expect(stack.sim.stats.writes, 'no drift, no writes').to.equal(writes);
        const secret = stack.sim.store.list('/ppp/secret').find((s) => s.name === 'back.ppp')!;
        stack.sim.store.remove('/ppp/secret', [secret['.id']!]);
        await eventually(async () => (managed(stack).length === before.length ? true : undefined), 'the secret back', 20_000);
      } finally {
        await stack.stop();
      }
    });

    it('a flapping agent link does not queue a reconcile on every connect', async () => {
      const stack = await startStack({ env: { MTANDAO_RECONCILE_THROTTLE_SECONDS: '300' } });
      try {
        for (let i = 0; i < 3; i++) {
          await stack.startAgentInProcess();
          await allApplied(stack.api);
          await stack.agent!.stop();
        }
        const onConnect = (await reconciles(stack)).filter((j) => j.reason === 'agent connected');
        expect(onConnect).to.have.length(1);
      } finally {
        await stack.stop();
      }
    });

    it('health turns reachable as soon as a command succeeds, not at the next health tick', async () => {
      const stack = await startStack();
      try {
        await stack.startAgentInProcess({ healthIntervalMs: 600_000 });
        await allApplied(stack.api);
        const health = async () => (expectStatus(await stack.api.get(`/routers/${stack.world.router.id}`), 200) as { health: Body }).health;
        stack.sim.setDown(true);
        await stack.agent!.reportHealth();
        await eventually(async () => ((await health()).reachable === false ? true : undefined), 'the router unreachable');
        stack.sim.setDown(false);
        expectStatus(
          await stack.api.post('/customers', stack.fx.customerBody(stack.world.pppoe.id as string, { ipAddress: '10.64.8.9', username: 'wakes.health' })),
          201,
        );
        await allApplied(stack.api, '', 20_000);
        await eventually(async () => ((await health()).reachable === true ? true : undefined), 'the router reachable again', 3000);
      } finally {
        await stack.stop();
      }
    });
  });
});
