import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { HealthMessage } from '@mtandao/protocol';
import { RouterOsSim } from '@mtandao/routeros-sim';
import { packAndInstall } from '../../scripts/lib/agent-install.mjs';
import { FakeController } from './helpers/fake-controller.ts';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const VERSION = (JSON.parse(readFileSync(path.join(root, 'agent/package.json'), 'utf8')) as { version: string }).version;

/**
 * The agent as shipped (issue 12 item 5): the packed tarball installed as agent/Dockerfile and the
 * systemd unit have it, its bin a one-file CommonJS bundle in low-memory mode.
 */
describe('the packed agent bin', function () {
  this.timeout(180_000);
  let scratch: string;
  let installed: ReturnType<typeof packAndInstall>;
  const children: ChildProcess[] = [];

  before(() => {
    scratch = mkdtempSync(path.join(tmpdir(), 'mtandao-agent-bin-'));
    installed = packAndInstall(scratch);
  });
  after(async () => {
    for (const child of children.filter((c) => c.exitCode === null && c.signalCode === null)) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(scratch, { recursive: true, force: true });
  });

  it('is bin/mtandao-agent.cjs, which loads the bundle: enrols, runs against emulated routers over the API and SSH, and reports them', async () => {
    expect(path.relative(installed.modules, realpathSync(installed.bin))).to.equal(path.join('@mtandao', 'agent', 'bin', 'mtandao-agent.cjs'));
    const bundle = readFileSync(path.join(installed.modules, '@mtandao/agent/dist/mtandao-agent.cjs'), 'utf8');
    // zod, pino and ws are inside; ssh2 is loaded only on the first SSH connect
    expect(bundle).not.to.match(/require\("(zod|pino|ws)"\)/);
    expect(bundle).to.match(/require\("ssh2"\)/);

    const controller = await FakeController.start();
    const sim = new RouterOsSim({ username: 'mtandao', password: 'pw-packed', identity: 'packed-1' });
    try {
      const { apiPort, sshPort } = await sim.start();
      const stateDir = path.join(scratch, 'state');
      const enrolled = await exec(process.execPath, [
        installed.bin,
        'enroll',
        '--controller',
        controller.url,
        '--token',
        controller.issueToken(),
        '--state-dir',
        stateDir,
      ]);
      expect(enrolled.stdout).to.contain('enrolled as agent agt_');
      const configFile = path.join(scratch, 'agent.json');
      const login = { host: '127.0.0.1', username: 'mtandao', password: 'pw-packed' };
      // the same emulator twice: once over the API, once over SSH (ssh2, required by the bundle on the first connect)
      const routers = [
        { name: 'packed-api', port: apiPort, transport: 'api', ...login },
        { name: 'packed-ssh', port: sshPort, transport: 'ssh', ...login },
      ];
      writeFileSync(configFile, JSON.stringify({ routers }), { mode: 0o600 });
      let log = '';
      const child = spawn(process.execPath, [installed.bin, 'run', '--config', configFile, '--state-dir', stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      const health = (await controller.waitFor(
        (m) => m.type === 'health' && m.routers.length === 2 && m.routers.every((r) => r.reachable),
        15_000,
      )) as HealthMessage;
      expect(health.routers.map((r) => r.name).sort()).to.deep.equal(['packed-api', 'packed-ssh']);
      expect(log).to.contain(`"version":"${VERSION}"`);
      expect(log).not.to.contain('pw-packed');
      child.kill('SIGTERM');
      expect(await new Promise((r) => child.once('exit', r))).to.equal(0);
    } finally {
      await sim.stop();
      await controller.close();
    }
  });

  it('runs in low-memory mode (V8 compiles none of its code to machine code); MTANDAO_AGENT_LOW_MEMORY=0 gives V8 its defaults back', async () => {
    // the bin preloaded ahead of hot code: V8 traces every function it hands to Sparkplug or TurboFan
    const hot = path.join(scratch, 'hot.cjs');
    writeFileSync(
      hot,
      [
        'function mtandaoHotAdd(a, b) { return a + b; }',
        'function mtandaoHotLoop() { let s = 0; for (let i = 0; i < 1e6; i++) s = mtandaoHotAdd(s, i); return s; }',
        'for (let j = 0; j < 20; j++) mtandaoHotLoop();',
      ].join('\n'),
    );
    const traced = async (lowMemory: string | undefined) => {
      const env = { ...process.env, MTANDAO_AGENT_LOW_MEMORY: lowMemory };
      if (lowMemory === undefined) delete env.MTANDAO_AGENT_LOW_MEMORY;
      const args = ['--trace-opt', '--trace-baseline-batch-compilation', '--require', installed.bin, hot, '--version'];
      const { stdout } = await exec(process.execPath, args, { env, maxBuffer: 64 * 1024 * 1024 });
      expect(stdout).to.contain(VERSION);
      return stdout.split('\n').filter((l) => l.includes('mtandaoHot'));
    };
    expect(await traced(undefined)).to.deep.equal([]);
    expect(await traced('1')).to.deep.equal([]);
    const jit = await traced('0');
    expect(
      jit.some((l) => l.includes('Baseline batch compilation')),
      jit.join('\n'),
    ).to.equal(true);
    expect(
      jit.some((l) => l.includes('TURBOFAN')),
      jit.join('\n'),
    ).to.equal(true);
  });

  it("is what the image's entry runs, after it hands the state directory to the node user when started as root", async () => {
    // agent/Dockerfile: the entry is copied beside the installed node_modules
    const entry = path.join(installed.prefix, 'entry.cjs');
    copyFileSync(path.join(root, 'agent/container-entry.cjs'), entry);
    const stateDir = path.join(scratch, 'container-state');
    for (const dir of [scratch, installed.prefix]) chmodSync(dir, 0o755); // the node user (1000) reads the install
    const { stdout } = await exec(process.execPath, [entry, '--version'], { env: { ...process.env, MTANDAO_AGENT_STATE_DIR: stateDir } });
    expect(stdout.trim()).to.equal(VERSION);
    if (process.getuid?.() === 0) expect(statSync(stateDir).uid).to.equal(1000);
  });

  it('starts with the same NODE_OPTIONS in the image and in the systemd unit', () => {
    const unit = /^Environment=NODE_OPTIONS=(.*)$/m.exec(readFileSync(path.join(root, 'deploy/mtandao-agent.service'), 'utf8'))?.[1];
    const image = /^\s*NODE_OPTIONS=(\S+)/m.exec(readFileSync(path.join(root, 'agent/Dockerfile'), 'utf8'))?.[1];
    expect(unit).to.equal('--max-semi-space-size=1');
    expect(image).to.equal(unit);
    expect(readFileSync(path.join(root, 'agent/Dockerfile'), 'utf8')).to.match(/^ENTRYPOINT \["node", "\/opt\/mtandao-agent\/entry\.cjs"\]$/m);
  });
});
