import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { enrollAgent, startAgent, type AgentHandle } from '@mtandao/agent';
import { RouterOsSim } from '@mtandao/routeros-sim';
import { ApiClient, expectStatus } from '../helpers/client.ts';
import { ADMIN_PASSWORD, startTestController, TEST_SECRET_KEY, TEST_SIGNING_KEY } from '../helpers/controller.ts';
import { freshDatabase } from '../helpers/database.ts';
import { Fixtures } from '../helpers/fixtures.ts';
import { allApplied, ROUTER_PASSWORD, ROUTER_USER } from '../helpers/stack.ts';

type Body = Record<string, unknown>;
const here = path.dirname(fileURLToPath(import.meta.url));

/** Starts a controller in a child process on `databaseUrl`; resolves with it and its URL. */
async function childController(databaseUrl: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--conditions=mtandao-source', '--import', 'tsx', path.join(here, '../helpers/child-controller.ts')], {
    env: { ...process.env, CHILD_DATABASE_URL: databaseUrl, CHILD_SECRET_KEY: TEST_SECRET_KEY, CHILD_SIGNING_KEY: TEST_SIGNING_KEY },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m: { url: string }) => resolve(m.url));
    child.once('exit', (code) => reject(new Error(`the controller exited (${code}) before it started`)));
  });
  return { child, url };
}

/** Issue 12 item 4: an agent that knows two controller instances loses one mid-burst and moves to the other. */
describe('agent failover between two controller instances on one database', function () {
  this.timeout(180_000);
  let a: { child: ChildProcess; url: string } | undefined;
  let b: Awaited<ReturnType<typeof startTestController>> | undefined;
  let agent: AgentHandle | undefined;
  let sim: RouterOsSim | undefined;

  afterEach(async () => {
    await agent?.stop().catch(() => undefined);
    if (a && a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGKILL');
    await b?.stop();
    await sim?.stop();
  });

  it('moves to the live instance within 2 s when its own is killed mid-burst; every customer ends applied on the router', async () => {
    const databaseUrl = await freshDatabase();
    a = await childController(databaseUrl);
    b = await startTestController({ MTANDAO_HEARTBEAT_SECONDS: '2' }, { databaseUrl });
    const apiB = await new ApiClient(b.url).login('admin', ADMIN_PASSWORD);
    const fx = new Fixtures(apiB);
    const world = await fx.world();
    sim = new RouterOsSim({ username: ROUTER_USER, password: ROUTER_PASSWORD, sshPort: null, identity: 'failover-router' });
    const { apiPort } = await sim.start();

    // enrolled through A (the first URL answers), both instances kept for failover
    const stateDir = mkdtempSync(path.join(tmpdir(), 'mtandao-failover-'));
    const token = expectStatus(await apiB.post(`/sites/${world.site.id}/enrollment-tokens`), 201) as { token: string };
    const identity = await enrollAgent({ controllerUrl: [a.url, b.url], token: token.token, stateDir });
    expect(identity.controllerUrls).to.have.length(2);
    agent = await startAgent({
      stateDir,
      config: {
        routers: [
          {
            name: world.router.name as string,
            host: '127.0.0.1',
            port: apiPort,
            transport: 'api',
            username: ROUTER_USER,
            password: ROUTER_PASSWORD,
            timeoutMs: 3000,
          },
        ],
        logLevel: (process.env.TEST_LOG_LEVEL as 'silent' | undefined) ?? 'silent',
        healthIntervalSeconds: 30,
      },
      // the SPEC's timing: keepalive 15 s, reconnect ceiling from 0.5 s
    });
    await agent.whenConnected();
    expect(agent.controllerUrl).to.contain(new URL(a.url).host);
    await allApplied(apiB);

    // a burst of customer adds through B; A (holding the agent) dies after the tenth
    const total = 40;
    const ids: string[] = [];
    let killedAt = 0;
    let reconnectedAt = 0;
    const watch = (async () => {
      while (!killedAt) await new Promise((r) => setTimeout(r, 5));
      // polled on the agent itself: its move can be quicker than any poll of "disconnected"
      const live = new URL(b!.url).host;
      while (!(agent!.connected && agent!.controllerUrl?.includes(live))) {
        if (Date.now() - killedAt > 30_000) throw new Error('the agent never reached the live instance');
        await new Promise((r) => setTimeout(r, 2));
      }
      reconnectedAt = Date.now();
    })();
    for (let i = 0; i < total; i++) {
      const c = expectStatus(
        await apiB.post('/customers', fx.customerBody(world.pppoe.id as string, { ipAddress: `10.64.9.${i + 10}`, username: `burst${i}` })),
        201,
      ) as Body;
      ids.push(c.id as string);
      if (i === 9) {
        a.child.kill('SIGKILL');
        killedAt = Date.now();
      }
    }
    await watch;
    const gapMs = reconnectedAt - killedAt;
    console.log(`      failover: the agent was connected to the live instance ${gapMs} ms after its own was killed`);
    expect(agent.controllerUrl).to.contain(new URL(b.url).host);
    expect(gapMs).to.be.below(2000);

    await allApplied(apiB, '', 60_000);
    const secrets = sim.store.list('/ppp/secret');
    for (const id of ids)
      expect(
        secrets.filter((s) => s.comment === `mtandao:${id}`),
        `customer ${id} on the router`,
      ).to.have.length(1);
  });
});
