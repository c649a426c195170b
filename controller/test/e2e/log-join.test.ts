import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { createLogger as createAgentLogger, enrollAgent, startAgent, type AgentHandle } from '@mtandao/agent';
import { RouterOsSim } from '@mtandao/routeros-sim';
import { ApiClient, expectStatus } from '../helpers/client.ts';
import { ADMIN_PASSWORD, startTestController } from '../helpers/controller.ts';
import { Fixtures } from '../helpers/fixtures.ts';
import { allApplied, eventually, ROUTER_PASSWORD, ROUTER_USER } from '../helpers/stack.ts';

type Line = Record<string, unknown>;

/** Issue 12 item 9: controller and agent log lines about a router or a job can be joined across the two processes. */
describe('logs join across controller and agent', function () {
  this.timeout(120_000);
  const controllerLines: Line[] = [];
  const agentLines: Line[] = [];
  let controller: Awaited<ReturnType<typeof startTestController>> | undefined;
  let agent: AgentHandle | undefined;
  let sim: RouterOsSim | undefined;
  after(async () => {
    await agent?.stop();
    await sim?.stop();
    await controller?.stop();
  });

  it('every line about a router carries routerId and routerName; every job line its jobId', async () => {
    const capture = (into: Line[]) => ({ write: (text: string) => void into.push(JSON.parse(text) as Line) });
    controller = await startTestController(
      { MTANDAO_HEARTBEAT_SECONDS: '2' },
      { logger: pino({ level: 'debug', base: { service: 'controller' } }, capture(controllerLines)) },
    );
    const api = await new ApiClient(controller.url).login('admin', ADMIN_PASSWORD);
    const fx = new Fixtures(api);
    const world = await fx.world();
    sim = new RouterOsSim({ username: ROUTER_USER, password: ROUTER_PASSWORD, sshPort: null, identity: 'join-router' });
    const { apiPort } = await sim.start();
    const stateDir = path.join(mkdtempSync(path.join(tmpdir(), 'mtandao-logjoin-')), 'state');
    const token = expectStatus(await api.post(`/sites/${world.site.id}/enrollment-tokens`), 201) as { token: string };
    await enrollAgent({ controllerUrl: controller.url, token: token.token, stateDir });
    const routerName = world.router.name as string;
    const routerId = String(world.router.id);
    agent = await startAgent({
      stateDir,
      config: {
        routers: [{ name: routerName, host: '127.0.0.1', port: apiPort, transport: 'api', username: ROUTER_USER, password: ROUTER_PASSWORD, timeoutMs: 3000 }],
        logLevel: 'debug',
        healthIntervalSeconds: 30,
      },
      logger: createAgentLogger({ level: 'debug', destination: capture(agentLines) }),
      timing: { backoffBaseMs: 50, backoffCapMs: 500 },
    });
    await agent.whenConnected();
    await allApplied(api);

    // one customer that lands, one that the router refuses (an unmanaged secret holds the name)
    expectStatus(await api.post('/customers', fx.customerBody(world.pppoe.id as string, { ipAddress: '10.64.30.1', username: 'joined.ok' })), 201);
    sim.store.add('/ppp/secret', { name: 'joined.taken', password: 'owner', service: 'pppoe' });
    expectStatus(await api.post('/customers', fx.customerBody(world.pppoe.id as string, { ipAddress: '10.64.30.2', username: 'joined.taken' })), 201);
    await eventually(async () => (controllerLines.some((l) => l.msg === 'command did not apply') ? true : undefined), 'the refused command logged');
    await agent.idle();

    const aboutRouter = (l: Line) => l.routerId !== undefined || l.routerName !== undefined;
    const controllerRouterLines = controllerLines.filter(aboutRouter);
    const agentRouterLines = agentLines.filter(aboutRouter);
    expect(controllerRouterLines.length).to.be.above(2);
    expect(agentRouterLines.length).to.be.above(2);
    for (const l of controllerRouterLines) expect(l, JSON.stringify(l)).to.include({ routerId, routerName });
    for (const l of agentRouterLines) expect(l, JSON.stringify(l)).to.include({ routerName });

    // a job line is one with a commandId or a jobId: both sides carry the jobId, and they match
    const jobLines = (lines: Line[]) => lines.filter((l) => l.commandId !== undefined || l.jobId !== undefined);
    for (const l of [...jobLines(controllerLines), ...jobLines(agentLines)]) expect(l.jobId, JSON.stringify(l)).to.be.a('string');
    const refused = controllerLines.find((l) => l.msg === 'command did not apply')!;
    const agentRefused = agentLines.find((l) => l.msg === 'command failed')!;
    expect(agentRefused).to.include({ jobId: refused.jobId, routerId, routerName, commandId: refused.commandId });
    // the agent knows routers by name: the controller's id reaches its command lines with the command
    for (const l of jobLines(agentLines).filter((x) => x.routerName !== undefined)) expect(l, JSON.stringify(l)).to.include({ routerId });
    expect(refused).to.include({ routerId, routerName });
  });
});
