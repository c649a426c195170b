import { expect } from 'chai';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { AgentHandle } from '../src/agent.ts';
import { runCli, EXIT } from '../src/cli.ts';
import { ConfigError, loadAgentConfig, resolvePaths } from '../src/config.ts';
import { enrolledStateDir, FAST, healthyProbe, memoryLogger, recordingExecutor, removeDir, ROUTER_PASSWORD, tempDir } from './helpers/agent-fixtures.ts';
import { FakeController } from './helpers/fake-controller.ts';

async function configError(path: string): Promise<ConfigError> {
  try {
    await loadAgentConfig(path);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('agent config', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await tempDir();
    file = join(dir, 'agent.json');
  });
  afterEach(() => removeDir(dir));

  const write = (config: unknown): Promise<void> => writeFile(file, JSON.stringify(config));

  it('names every bad key at once', async () => {
    await write({
      routers: [
        { name: 'core-1', host: '10.0.0.1', port: '8728', transport: 'api', username: 'a', password: 'p' },
        { name: 'core-1', host: '10.0.0.2', transport: 'telnet', username: 'a', pasword: 'p' },
      ],
      healthIntervalSeconds: 1,
      colour: 'blue',
    });
    const { issues, message } = await configError(file);
    const keys = issues.map((i) => i.split(':')[0]);
    expect(keys).to.include.members(['routers[0].port', 'routers[1].transport', 'routers[1].pasword', 'healthIntervalSeconds', 'colour']);
    expect(issues.find((i) => i.startsWith('routers[1].pasword'))).to.contain('unknown key');
    expect(message).to.contain(file);
  });

  it('refuses two routers with one name and a router with both or neither password', async () => {
    await write({
      routers: [
        { name: 'r', host: 'h', transport: 'api', username: 'a', password: 'p' },
        { name: 'r', host: 'h', transport: 'api', username: 'a' },
        { name: 's', host: 'h', transport: 'api', username: 'a', password: 'p', passwordFile: 'x' },
      ],
    });
    const { issues } = await configError(file);
    expect(issues).to.include.members([
      'routers[1].name: router name "r" is used twice',
      'routers[1].password: give exactly one of password and passwordFile',
      'routers[2].password: give exactly one of password and passwordFile',
    ]);
  });

  it('reads passwordFile relative to the config file and fills default ports', async () => {
    await mkdir(join(dir, 'secrets'));
    await writeFile(join(dir, 'secrets', 'edge.pw'), 's3cret\n');
    await write({
      routers: [
        { name: 'edge', host: 'h', transport: 'ssh', username: 'a', passwordFile: 'secrets/edge.pw' },
        { name: 'tls', host: 'h', transport: 'api-ssl', username: 'a', password: 'p', timeoutMs: 5000 },
      ],
    });
    const config = await loadAgentConfig(file);
    expect(config.routers[0]).to.include({ password: 's3cret', port: 22 });
    expect(config.routers[1]).to.include({ port: 8729, timeoutMs: 5000 });
    expect(config).to.include({ logLevel: 'info', healthIntervalSeconds: 30 });
  });

  it('names a passwordFile it cannot read', async () => {
    await write({ routers: [{ name: 'edge', host: 'h', transport: 'ssh', username: 'a', passwordFile: 'missing.pw' }] });
    const { issues } = await configError(file);
    expect(issues[0]).to.match(/^routers\[0\]\.passwordFile: cannot read .*missing\.pw \(ENOENT\)/);
  });

  it('says when the file is missing or not JSON', async () => {
    expect((await configError(join(dir, 'nope.json'))).message).to.contain('MTANDAO_AGENT_CONFIG');
    await writeFile(file, '{ routers: [] ');
    expect((await configError(file)).issues[0]).to.contain('not valid JSON');
  });

  it('takes paths from flags, then the environment, then ${MTANDAO_DATA_DIR:-./data}/agent', () => {
    expect(resolvePaths({}, {})).to.deep.equal({ stateDir: resolve('data/agent'), configPath: resolve('data/agent/config.json') });
    expect(resolvePaths({}, { MTANDAO_DATA_DIR: '/srv/m' }).stateDir).to.equal('/srv/m/agent');
    expect(resolvePaths({}, { MTANDAO_DATA_DIR: '/srv/m', MTANDAO_AGENT_STATE_DIR: '/var/lib/a', MTANDAO_AGENT_CONFIG: '/etc/a.json' })).to.deep.equal({
      stateDir: '/var/lib/a',
      configPath: '/etc/a.json',
    });
    expect(resolvePaths({ stateDir: '/x', config: '/y.json' }, { MTANDAO_AGENT_STATE_DIR: '/var/lib/a', MTANDAO_AGENT_CONFIG: '/etc/a.json' })).to.deep.equal({
      stateDir: '/x',
      configPath: '/y.json',
    });
  });

  it('names a bad environment variable', () => {
    expect(() => resolvePaths({}, { MTANDAO_AGENT_STATE_DIR: '', MTANDAO_AGENT_CONFIG: '' }))
      .to.throw(ConfigError)
      .with.property('issues')
      .that.deep.equals(['MTANDAO_AGENT_CONFIG: must not be empty', 'MTANDAO_AGENT_STATE_DIR: must not be empty']);
  });
});

describe('mtandao-agent run', () => {
  let controller: FakeController;
  let stateDir: string;
  let configFile: string;
  beforeEach(async () => {
    controller = await FakeController.start();
    ({ stateDir } = await enrolledStateDir(controller));
    configFile = join(dirname(stateDir), 'agent.json');
    await writeFile(
      configFile,
      JSON.stringify({ routers: [{ name: 'core-1', host: '10.0.0.1', transport: 'api', username: 'admin', password: ROUTER_PASSWORD }] }),
    );
  });
  afterEach(async () => {
    await controller.close();
    await removeDir(dirname(stateDir));
  });

  const capture = () => {
    const out = { err: '' };
    return { out, stderr: { write: (t: string) => (out.err += t) } };
  };

  it('exits 2 naming the bad key of its config', async () => {
    await writeFile(configFile, JSON.stringify({ routers: [{ name: 'core-1', host: '10.0.0.1', transport: 'api', username: 'admin' }], logLevel: 'loud' }));
    const { out, stderr } = capture();
    expect(await runCli(['run', '--config', configFile, '--state-dir', stateDir], { stderr })).to.equal(EXIT.usage);
    expect(out.err).to.contain('routers[0].password').and.contain('logLevel');
  });

  it('exits 2 with the enrol command when the state directory was never enrolled', async () => {
    const { out, stderr } = capture();
    const empty = await tempDir();
    expect(await runCli(['run', '--config', configFile, '--state-dir', empty], { stderr })).to.equal(EXIT.usage);
    expect(out.err).to.contain('mtandao-agent enroll');
    await removeDir(empty);
  });

  it('connects with the config and env it was given, never logs the password, and exits 0 when stopped', async () => {
    const { logger, lines } = memoryLogger('debug');
    let handle: AgentHandle | undefined;
    const exit = runCli(['run'], {
      env: { MTANDAO_AGENT_CONFIG: configFile, MTANDAO_AGENT_STATE_DIR: stateDir },
      logger,
      executor: recordingExecutor(),
      probe: healthyProbe,
      timing: FAST,
      handleSignals: false,
      onStarted: (h) => (handle = h),
    });
    await controller.until(() => controller.messages.some((m) => m.msg.type === 'hello'));
    expect(handle!.connected).to.equal(true);
    await handle!.stop();
    expect(await exit).to.equal(EXIT.ok);
    expect(lines.length).to.be.above(2);
    expect(lines.join('\n')).not.to.contain(ROUTER_PASSWORD);
    expect(lines.every((l) => (JSON.parse(l) as { agentId?: string }).agentId === handle!.agentId)).to.equal(true);
  });
});
