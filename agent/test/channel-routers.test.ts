import { expect } from 'chai';
import { dirname } from 'node:path';
import type { HealthMessage } from '@mtandao/protocol';
import { startAgent, type AgentHandle } from '../src/agent.ts';
import { routerRuntime } from '../src/channel/routers.ts';
import { openRouter } from '../src/drivers/index.ts';
import { createLogger } from '../src/logger.ts';
import { RouterOsSim } from '@mtandao/routeros-sim';
import { agentConfig, applyCustomer, enrolledStateDir, FAST, recordingExecutor, removeDir } from './helpers/agent-fixtures.ts';
import { FakeController } from './helpers/fake-controller.ts';

const logger = createLogger({ level: 'silent' });

describe('agent channel: default router runtime', () => {
  let sim: RouterOsSim;
  let apiPort: number;
  before(async () => {
    sim = new RouterOsSim({ identity: 'pop-core', password: 'sim-pw', sshPort: null });
    ({ apiPort } = await sim.start());
  });
  after(() => sim.stop());

  const simRouter = (password = 'sim-pw') => ({
    name: 'core-1',
    host: '127.0.0.1',
    port: apiPort,
    transport: 'api' as const,
    username: 'admin',
    password,
    timeoutMs: 2000,
  });

  it('reads health through the real API driver, one client per router', async () => {
    let opened = 0;
    const runtime = routerRuntime(logger, (config, log) => {
      opened += 1;
      return openRouter(config, log);
    });
    const first = await runtime.probe(simRouter());
    const second = await runtime.probe(simRouter());
    expect(first).to.include({ version: '7.18.2 (stable)', identity: 'pop-core' });
    expect(second).to.include({ version: first.version, identity: first.identity });
    expect(opened).to.equal(1);
    await runtime.close();
  });

  it('reports an emulated router in its health message, and a refused login with the reason', async () => {
    const controller = await FakeController.start();
    const { stateDir } = await enrolledStateDir(controller);
    let agent: AgentHandle | undefined;
    try {
      agent = await startAgent({
        stateDir,
        config: agentConfig([simRouter(), { ...simRouter('wrong'), name: 'edge-2' }]),
        executor: recordingExecutor(),
        logger,
        timing: FAST,
      });
      const health = await controller.waitFor((m): m is HealthMessage => m.type === 'health');
      expect(health.routers.find((r) => r.name === 'core-1')).to.include({ reachable: true, version: '7.18.2 (stable)', identity: 'pop-core' });
      const edge = health.routers.find((r) => r.name === 'edge-2')!;
      expect(edge.reachable).to.equal(false);
      expect(edge.error).to.contain('invalid user name or password');
    } finally {
      await agent?.stop();
      await controller.close();
      await removeDir(dirname(stateDir));
    }
  });

  it('lands a customer on the emulated router through the real drivers and reconcile logic', async () => {
    const controller = await FakeController.start();
    const { stateDir, agentId } = await enrolledStateDir(controller);
    const agent = await startAgent({ stateDir, config: agentConfig([simRouter()]), logger, timing: FAST });
    try {
      await agent.whenConnected();
      const ack = await controller.deliver(controller.seal(agentId, 'customer.apply', applyCustomer('c42')));
      expect(ack.status, JSON.stringify(ack.error)).to.equal('applied');
      expect(ack.result!.changes.length).to.be.above(0);
      const secret = sim.store.list('/ppp/secret').find((row) => row.name === 'user-c42');
      expect(secret).to.include({ comment: 'mtandao:c42', service: 'pppoe', 'remote-address': '10.64.0.10' });
      const again = await controller.deliver(controller.seal(agentId, 'customer.apply', applyCustomer('c42')));
      expect(again.result!.changes).to.deep.equal([]);
    } finally {
      await agent.stop();
      await controller.close();
      await removeDir(dirname(stateDir));
    }
  });
});
