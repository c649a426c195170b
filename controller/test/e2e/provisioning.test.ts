import { expect } from 'chai';
import { ApiClient, expectStatus } from '../helpers/client.ts';
import { ADMIN_PASSWORD, startTestController } from '../helpers/controller.ts';
import { usingEmbedded } from '../helpers/database.ts';
import { allApplied, eventually, startStack, type Stack } from '../helpers/stack.ts';

type Body = Record<string, unknown>;
const secrets = (stack: Stack) => stack.sim.store.list('/ppp/secret');

describe('provisioning end to end (controller → agent → emulated router)', function () {
  this.timeout(60_000);

  describe('with the agent in-process', () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack();
      await stack.startAgentInProcess();
      await allApplied(stack.api); // plan profiles and the reconcile on connect
    });
    after(async () => stack.stop());

    it('lands a PPPoE customer added through the API on the router, with the job log showing it', async () => {
      const c = expectStatus(
        await stack.api.post(
          '/customers',
          stack.fx.customerBody(stack.world.pppoe.id as string, { ipAddress: '10.64.1.5', username: 'wanjiru', password: 'pa"ss $x [y];z\\w' }),
        ),
        201,
      ) as Body;
      const secret = await eventually(async () => secrets(stack).find((s) => s.name === 'wanjiru'), 'the secret');
      expect(secret).to.include({
        name: 'wanjiru',
        password: 'pa"ss $x [y];z\\w',
        service: 'pppoe',
        'remote-address': '10.64.1.5',
        comment: `mtandao:${c.id}`,
        disabled: 'false',
      });
      const jobs = await allApplied(stack.api, `&customerId=${c.id}`);
      const job = expectStatus(await stack.api.get(`/provisioning/jobs/${jobs[0]!.id}`), 200) as { events: Body[] };
      expect(job.events.map((e) => e.kind)).to.deep.equal(['created', 'sent', 'applied']);
      expect(String(job.events[2]!.message)).to.match(/applied on the router/);
    });

    it('suspends, unsuspends and removes on the router', async () => {
      const c = expectStatus(
        await stack.api.post('/customers', stack.fx.customerBody(stack.world.pppoe.id as string, { ipAddress: '10.64.1.6', username: 'otieno' })),
        201,
      ) as Body;
      await eventually(async () => secrets(stack).find((s) => s.name === 'otieno'), 'the secret');
      expectStatus(await stack.api.post(`/customers/${c.id}/suspend`), 200);
      await eventually(async () => (secrets(stack).find((s) => s.name === 'otieno')?.disabled === 'true' ? true : undefined), 'disabled');
      expectStatus(await stack.api.post(`/customers/${c.id}/unsuspend`), 200);
      await eventually(async () => (secrets(stack).find((s) => s.name === 'otieno')?.disabled === 'false' ? true : undefined), 'enabled');
      expectStatus(await stack.api.delete(`/customers/${c.id}`), 200);
      await eventually(async () => (secrets(stack).some((s) => s.name === 'otieno') ? undefined : true), 'removed');
    });

    it('lands Hotspot and Static customers', async () => {
      const h = expectStatus(
        await stack.api.post('/customers', stack.fx.customerBody(stack.world.hotspot.id as string, { connectionType: 'hotspot', username: 'hs.user' })),
        201,
      ) as Body;
      const s = expectStatus(
        await stack.api.post(
          '/customers',
          stack.fx.customerBody(stack.world.static.id as string, { connectionType: 'static', ipAddress: '172.16.10.5', username: 'static.user' }),
        ),
        201,
      ) as Body;
      await eventually(
        async () => stack.sim.store.list('/ip/hotspot/user').find((u) => u.name === 'hs.user' && u.comment === `mtandao:${h.id}`),
        'the hotspot user',
      );
      const queue = await eventually(async () => stack.sim.store.list('/queue/simple').find((q) => q.comment === `mtandao:${s.id}`), 'the queue');
      expect(queue.target).to.equal('172.16.10.5/32');
      await eventually(
        async () => stack.sim.store.list('/ip/firewall/address-list').find((a) => a.list === 'mtandao-active' && a.address === '172.16.10.5'),
        'the address-list entry',
      );
    });

    it('fans a plan change out to the router', async () => {
      expectStatus(await stack.api.patch(`/plans/${stack.world.pppoe.id}`, { downloadSpeed: '20M' }), 200);
      await eventually(
        async () =>
          stack.sim.store.list('/ppp/profile').find((p) => p.comment === `mtandao-plan:${stack.world.pppoe.id}` && /20M|20000000/.test(p['rate-limit'] ?? '')),
        'the new rate limit',
      );
    });

    it('reconcile repairs drift and leaves unmarked entries alone', async () => {
      const c = expectStatus(
        await stack.api.post('/customers', stack.fx.customerBody(stack.world.pppoe.id as string, { ipAddress: '10.64.1.7', username: 'drift.me' })),
        201,
      ) as Body;
      await eventually(async () => secrets(stack).find((s) => s.name === 'drift.me'), 'the secret');
      await allApplied(stack.api);
      const store = stack.sim.store;
      const secret = secrets(stack).find((s) => s.name === 'drift.me')!;
      store.remove('/ppp/secret', [secret['.id']!]);
      const profile = store.list('/ppp/profile').find((p) => p.comment === `mtandao-plan:${stack.world.pppoe.id}`)!;
      store.set('/ppp/profile', [profile['.id']!], { 'rate-limit': '1k/1k' });
      store.add('/ppp/secret', { name: 'ghost', password: 'x', service: 'pppoe', comment: 'mtandao:999999' });
      store.add('/ppp/secret', { name: 'hand-made', password: 'y', service: 'pppoe', comment: 'made by the ISP owner' });
      store.add('/ppp/secret', { name: 'no-comment', password: 'z', service: 'pppoe' });
      const job = expectStatus(await stack.api.post(`/routers/${stack.world.router.id}/reconcile`), 202) as Body;
      await eventually(
        async () => ((expectStatus(await stack.api.get(`/provisioning/jobs/${job.id}`), 200) as Body).status === 'applied' ? true : undefined),
        'the reconcile',
      );
      const names = secrets(stack).map((s) => s.name);
      expect(names).to.include.members(['drift.me', 'hand-made', 'no-comment']);
      expect(names).to.not.include('ghost');
      expect(store.list('/ppp/profile').find((p) => p.comment === `mtandao-plan:${stack.world.pppoe.id}`)!['rate-limit']).to.not.equal('1k/1k');
      void c;
    });

    it('reads back the managed entries for NOC', async () => {
      const page = expectStatus(await stack.api.get(`/routers/${stack.world.router.id}/entries?limit=500`), 200) as { entries: Body[]; total: number };
      expect(page.total).to.be.greaterThan(3);
      expect(page.entries.every((e) => String(e.comment).startsWith('mtandao'))).to.equal(true);
    });

    it('reports router health from the agent', async () => {
      await stack.agent!.reportHealth();
      const r = await eventually(async () => {
        const v = expectStatus(await stack.api.get(`/routers/${stack.world.router.id}`), 200) as { health: Body; agentOnline: boolean };
        return v.health.version ? v : undefined;
      }, 'health');
      expect(r.health).to.include({ reachable: true, identity: 'test-router' });
      expect(r.agentOnline).to.equal(true);
    });

    it('retries a router that is down until it is back, with the error in the job log', async () => {
      stack.sim.setDown(true);
      const c = expectStatus(
        await stack.api.post('/customers', stack.fx.customerBody(stack.world.pppoe.id as string, { ipAddress: '10.64.1.8', username: 'router.down' })),
        201,
      ) as Body;
      const failedOnce = await eventually(async () => {
        const jobs = (expectStatus(await stack.api.get(`/provisioning/jobs?customerId=${c.id}`), 200) as { items: Body[] }).items;
        return jobs[0] && jobs[0].lastError ? jobs[0] : undefined;
      }, 'a failed attempt');
      expect(failedOnce.status).to.be.oneOf(['pending', 'sent']);
      const detail = expectStatus(await stack.api.get(`/provisioning/jobs/${failedOnce.id}`), 200) as { events: Body[] };
      expect(detail.events.some((e) => e.kind === 'retry-scheduled')).to.equal(true);
      stack.sim.setDown(false);
      await eventually(async () => secrets(stack).find((s) => s.name === 'router.down'), 'the secret after the router came back', 30_000);
      const done = await allApplied(stack.api, `&customerId=${c.id}`, 30_000);
      expect(done[0]!.attempts).to.be.greaterThan(1);
    });
  });

  it('lands PPPoE, Hotspot and Static customers identically through the API and through SSH', async () => {
    const states: Record<string, Record<string, string>[]>[] = [];
    for (const transport of ['api', 'ssh'] as const) {
      const stack = await startStack({ transport });
      try {
        await stack.startAgentInProcess();
        const { api, fx, world } = stack;
        expectStatus(
          await api.post(
            '/customers',
            fx.customerBody(world.pppoe.id as string, { ipAddress: '10.64.9.9', username: 'same.pppoe', password: 'q"uo;te $x [y] \\z' }),
          ),
          201,
        );
        expectStatus(
          await api.post(
            '/customers',
            fx.customerBody(world.hotspot.id as string, { connectionType: 'hotspot', username: 'same.hotspot', password: 'hs-pass' }),
          ),
          201,
        );
        expectStatus(
          await api.post(
            '/customers',
            fx.customerBody(world.static.id as string, { connectionType: 'static', ipAddress: '172.16.10.9', username: 'same.static' }),
          ),
          201,
        );
        await allApplied(stack.api);
        const snapshot: Record<string, Record<string, string>[]> = {};
        for (const menu of ['/ppp/profile', '/ppp/secret', '/ip/hotspot/user/profile', '/ip/hotspot/user', '/queue/simple', '/ip/firewall/address-list']) {
          snapshot[menu] = stack.sim.store
            .list(menu)
            .filter((r) => (r.comment ?? '').startsWith('mtandao'))
            .map(({ '.id': _id, 'creation-time': _t, ...rest }) => rest)
            .sort((a, b) => String(a.comment).localeCompare(String(b.comment)));
        }
        states.push(snapshot);
      } finally {
        await stack.stop();
      }
    }
    // plan names differ per stack (fixtures make them unique): compare everything else
    const scrub = (x: unknown) => JSON.parse(JSON.stringify(x).replace(/(pppoe|hotspot|static) plan [a-z0-9]+/g, '$1 plan'));
    expect(scrub(states[1])).to.deep.equal(scrub(states[0]));
    expect(states[0]!['/ppp/secret']!.find((r) => r.name === 'same.pppoe')!.password).to.equal('q"uo;te $x [y] \\z');
  });

  describe('crashes and restarts', () => {
    it('an agent killed mid-batch converges after a restart, with nothing applied twice', async () => {
      const stack = await startStack({ env: { MTANDAO_RECONCILE_ON_CONNECT: '0' } });
      try {
        stack.sim.setLatency(15);
        const child = await stack.startAgentProcess();
        await allApplied(stack.api);
        const before = stack.sim.stats.writes;
        const n = 60;
        for (let i = 0; i < n; i++)
          expectStatus(
            await stack.api.post('/customers', stack.fx.customerBody(stack.world.pppoe.id as string, { ipAddress: `10.64.2.${i + 1}`, username: `crash${i}` })),
            201,
          );
        await eventually(async () => (secrets(stack).length >= 5 ? true : undefined), 'some secrets');
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
        const landedBeforeKill = secrets(stack).length;
        expect(landedBeforeKill).to.be.lessThan(n);
        await stack.startAgentProcess();
        await allApplied(stack.api, '', 40_000);
        const names = secrets(stack).map((s) => s.name);
        expect(names).to.have.length(n);
        expect(new Set(names).size).to.equal(n);
        expect(stack.sim.stats.writes - before, 'one write per customer').to.equal(n);
      } finally {
        await stack.stop();
      }
    });

    it('a restarted controller delivers the backlog', async () => {
      const stack = await startStack({ env: { MTANDAO_CONTROLLER_PORT: String(await freePort()) } });
      try {
        await stack.startAgentInProcess();
        await allApplied(stack.api);
        await stack.agent!.stop();
        stack.agent = undefined;
        for (let i = 0; i < 10; i++)
          expectStatus(
            await stack.api.post(
              '/customers',
              stack.fx.customerBody(stack.world.pppoe.id as string, { ipAddress: `10.64.3.${i + 1}`, username: `backlog${i}` }),
            ),
            201,
          );
        const { config } = stack.controller;
        await stack.controller.stop();
        stack.controller = await startTestController(
          { MTANDAO_CONTROLLER_PORT: String(config.port), MTANDAO_HEARTBEAT_SECONDS: '2' },
          { databaseUrl: config.databaseUrl! },
        );
        await stack.api.login('admin', ADMIN_PASSWORD);
        await stack.startAgentInProcess();
        await eventually(
          async () => (secrets(stack).filter((s) => s.name?.startsWith('backlog')).length === 10 ? true : undefined),
          'the backlog on the router',
        );
        await allApplied(stack.api);
      } finally {
        await stack.stop();
      }
    });

    it('two controller instances on one database deliver through the one the agent is connected to', async function () {
      if (usingEmbedded()) this.skip(); // PGlite is a single-backend database: one controller at a time
      // an hour between polls: only NOTIFY can bring the job across in time
      const noPolling = { MTANDAO_DISPATCH_POLL_MS: String(3_600_000) };
      const stack = await startStack({ env: noPolling });
      const other = await startTestController(noPolling, { databaseUrl: stack.controller.config.databaseUrl! });
      try {
        await stack.startAgentInProcess(); // connected to the first instance
        const api2 = await new ApiClient(other.url).login('admin', ADMIN_PASSWORD);
        expectStatus(
          await api2.post('/customers', stack.fx.customerBody(stack.world.pppoe.id as string, { ipAddress: '10.64.4.1', username: 'via.other' })),
          201,
        );
        await eventually(async () => secrets(stack).find((s) => s.name === 'via.other'), 'the secret, woken by NOTIFY (polling is off)', 10_000);
      } finally {
        await other.stop();
        await stack.stop();
      }
    });
  });
});

async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
