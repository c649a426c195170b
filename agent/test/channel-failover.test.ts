import { expect } from 'chai';
import { dirname } from 'node:path';
import type { AgentHandle } from '../src/agent.ts';
import { controllerUrls, resolveEndpoints, websocketUrlOf } from '../src/channel/endpoints.ts';
import { readIdentity } from '../src/state/identity.ts';
import { agentConfig, connectedAgent, enrolledStateDir, removeDir } from './helpers/agent-fixtures.ts';
import { FakeController } from './helpers/fake-controller.ts';

describe('controller endpoints', () => {
  it('gives an http(s) controller URL the enrolled WebSocket path, keeps a ws(s) URL as it is, drops duplicates', () => {
    expect(websocketUrlOf('https://ctl-2.isp.example', 'wss://ctl-1.isp.example/agent')).to.equal('wss://ctl-2.isp.example/agent');
    expect(websocketUrlOf('http://10.0.0.2:8080/', 'ws://10.0.0.1:8080/agent')).to.equal('ws://10.0.0.2:8080/agent');
    expect(websocketUrlOf('wss://other.example/x/agent', 'wss://a/agent')).to.equal('wss://other.example/x/agent');
    expect(() => websocketUrlOf('ftp://x', 'wss://a/agent')).to.throw(/http\(s\)/);
    expect(controllerUrls('ws://10.0.0.1:8080/agent', ['http://10.0.0.1:8080', 'http://10.0.0.2:8080'])).to.deep.equal([
      'ws://10.0.0.1:8080/agent',
      'ws://10.0.0.2:8080/agent',
    ]);
  });

  it('dials every address a name resolves to, keeping the name for Host and TLS', async () => {
    const resolver = async (name: string): Promise<string[]> =>
      ({ 'ctl.isp.example': ['192.0.2.10', '2001:db8::10'], 'one.isp.example': ['192.0.2.20'] })[name] ?? Promise.reject(new Error('ENOTFOUND'));
    const endpoints = await resolveEndpoints(
      ['wss://ctl.isp.example/agent', 'ws://127.0.0.1:8080/agent', 'wss://one.isp.example/agent', 'wss://gone.isp.example/agent'],
      resolver,
    );
    expect(endpoints).to.deep.equal([
      { url: 'wss://192.0.2.10/agent', label: 'wss://ctl.isp.example/agent (192.0.2.10)', host: 'ctl.isp.example', servername: 'ctl.isp.example' },
      { url: 'wss://[2001:db8::10]/agent', label: 'wss://ctl.isp.example/agent (2001:db8::10)', host: 'ctl.isp.example', servername: 'ctl.isp.example' },
      { url: 'ws://127.0.0.1:8080/agent', label: 'ws://127.0.0.1:8080/agent' },
      { url: 'wss://one.isp.example/agent', label: 'wss://one.isp.example/agent' },
      // a name that does not resolve now is dialled as it is, so the error says why
      { url: 'wss://gone.isp.example/agent', label: 'wss://gone.isp.example/agent' },
    ]);
  });
});

describe('agent failover', () => {
  let first: FakeController;
  let second: FakeController;
  let stateDir: string;
  let agentId: string;
  let agent: AgentHandle | undefined;

  beforeEach(async () => {
    first = await FakeController.start();
    second = await FakeController.start();
    ({ stateDir, agentId } = await enrolledStateDir(first));
    // the second instance shares the first's agents (one database behind both)
    second.registerAgent(agentId, (await readIdentity(stateDir))!.publicKey);
  });
  afterEach(async () => {
    await agent?.stop();
    agent = undefined;
    await Promise.all([first.close(), second.close()]);
    await removeDir(dirname(stateDir));
  });

  it('moves to the next controller within 2 s of losing its own, with the SPEC backoff', async () => {
    agent = await connectedAgent(stateDir, { config: { ...agentConfig(), controllers: [second.url] }, timing: { backoffBaseMs: 500, backoffCapMs: 30_000 } });
    expect(agent.controllerUrl).to.contain(`:${first.port}/`);
    const killed = Date.now();
    await first.close();
    await second.until(() => second.connections === 1, 2000);
    const gap = Date.now() - killed;
    expect(gap).to.be.below(2000);
    expect(agent.controllerUrl).to.contain(`:${second.port}/`);
  });

  it('walks every address of a controller name, keeping the name in the Host header', async () => {
    const port = second.port;
    // ctl.test names a dead address first (nothing listens on 127.0.0.2) and the live one second
    const resolve = async (name: string): Promise<string[]> => (name === 'ctl.test' ? ['127.0.0.2', '127.0.0.1'] : []);
    agent = await connectedAgent(stateDir, { config: { ...agentConfig(), controllers: [`http://ctl.test:${port}`] }, resolve });
    await first.close();
    await second.until(() => second.connections === 1, 2000);
    expect(agent.controllerUrl).to.equal(`ws://ctl.test:${port}/agent (127.0.0.1)`);
    expect(second.upgrades.at(-1)!.headers.host).to.equal(`ctl.test:${port}`);
  });
});
