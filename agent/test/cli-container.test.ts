import { expect } from 'chai';
import { join } from 'node:path';
import type { HelloMessage } from '@mtandao/protocol';
import type { AgentHandle } from '../src/agent.ts';
import { EXIT, runCli } from '../src/cli.ts';
import { readIdentity } from '../src/state/identity.ts';
import { FAST, healthyProbe, memoryLogger, recordingExecutor, removeDir, tempDir } from './helpers/agent-fixtures.ts';
import { FakeController } from './helpers/fake-controller.ts';

/** The agent as a RouterOS container starts it: no config file, no enrol step, only envs. */
describe('mtandao-agent run from the environment (containers)', () => {
  let controller: FakeController;
  let dir: string;
  beforeEach(async () => {
    controller = await FakeController.start();
    dir = await tempDir();
  });
  afterEach(async () => {
    await controller.close();
    await removeDir(dir);
  });

  const routerEnv = {
    MTANDAO_ROUTER_NAME: 'core-1',
    MTANDAO_ROUTER_HOST: '172.17.0.1',
    MTANDAO_ROUTER_USERNAME: 'mtandao',
    MTANDAO_ROUTER_PASSWORD: 'router-secret-77',
  };

  it('enrols with MTANDAO_CONTROLLER_URL and MTANDAO_ENROLL_TOKEN at the first start, takes its router from MTANDAO_ROUTER_*, and connects', async () => {
    const stateDir = join(dir, 'state');
    const env = {
      ...routerEnv,
      MTANDAO_AGENT_STATE_DIR: stateDir,
      MTANDAO_CONTROLLER_URL: `http://127.0.0.1:1,${controller.url}`,
      MTANDAO_ENROLL_TOKEN: controller.issueToken(),
    };
    const { logger, lines } = memoryLogger('debug');
    let out = '';
    let handle: AgentHandle | undefined;
    const exit = runCli(['run'], {
      env,
      stdout: { write: (t: string) => (out += t) },
      logger,
      executor: recordingExecutor(),
      probe: healthyProbe,
      timing: FAST,
      handleSignals: false,
      onStarted: (h) => (handle = h),
    });
    const hello = (await controller.waitFor((m) => m.type === 'hello')) as HelloMessage;
    expect(hello.routers).to.deep.equal([{ name: 'core-1', transport: 'api', host: '172.17.0.1' }]);
    expect(out).to.match(/enrolled as agent agt_/);
    const identity = (await readIdentity(stateDir))!;
    // the dead first URL was skipped at enrolment and both are kept for failover
    expect(identity.controllerUrls).to.deep.equal(['http://127.0.0.1:1/', `${controller.url}/`]);
    await handle!.stop();
    expect(await exit).to.equal(EXIT.ok);
    expect(lines.join('\n')).not.to.contain('router-secret-77');

    // the second start finds the identity and never uses the (spent) token again
    let second: AgentHandle | undefined;
    const again = runCli(['run'], {
      env,
      stdout: { write: (t: string) => (out += t) },
      logger,
      executor: recordingExecutor(),
      probe: healthyProbe,
      timing: FAST,
      handleSignals: false,
      onStarted: (h) => (second = h),
    });
    await controller.until(() => controller.messages.filter((m) => m.msg.type === 'hello').length === 2);
    expect(second!.agentId).to.equal(identity.agentId);
    await second!.stop();
    expect(await again).to.equal(EXIT.ok);
  });

  it('names the missing router variable', async () => {
    let err = '';
    const env = { MTANDAO_ROUTER_HOST: '172.17.0.1', MTANDAO_AGENT_STATE_DIR: join(dir, 'state') };
    expect(await runCli(['run'], { env, stderr: { write: (t: string) => (err += t) } })).to.equal(EXIT.usage);
    expect(err).to.contain('MTANDAO_ROUTER_*').and.contain('routers[0].name').and.contain('routers[0].username');
  });
});
