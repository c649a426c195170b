import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { RouterOsSim } from '@mtandao/routeros-sim';
import { packAndInstall } from '../../../scripts/lib/agent-install.mjs';
import { ApiClient, expectStatus } from '../helpers/client.ts';
import { ADMIN_PASSWORD, startTestController } from '../helpers/controller.ts';
import { Fixtures } from '../helpers/fixtures.ts';
import { allApplied, eventually, ROUTER_PASSWORD, ROUTER_USER } from '../helpers/stack.ts';

type Body = Record<string, unknown>;
const exec = promisify(execFile);

/**
 * Issue 12 items 1 and 5: the agent as an ISP installs it — `npm pack`ed, installed with
 * `npm install --omit=dev` into an empty folder, run as plain compiled JavaScript (no tsx) — enrols
 * with a real controller and puts a customer on an emulated router.
 */
describe('the agent from its packed tarball', function () {
  this.timeout(180_000);
  let scratch: string;
  let bin: string;
  let modules: string;
  let controller: Awaited<ReturnType<typeof startTestController>> | undefined;
  let sim: RouterOsSim | undefined;
  let child: ChildProcess | undefined;

  before(async () => {
    scratch = mkdtempSync(path.join(tmpdir(), 'mtandao-agent-install-'));
    // packed, then installed the way agent/Dockerfile's last stage and scripts/agent-image.mjs do
    const installed = packAndInstall(scratch);
    expect(path.basename(installed.tarball)).to.match(/^mtandao-agent-\d+\.\d+\.\d+\.tgz$/);
    modules = installed.modules;
    bin = installed.bin;
  });
  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child!.once('exit', r));
    }
    await sim?.stop();
    await controller?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('installs compiled JavaScript only: no TypeScript, no tsx, no emulator, protocol bundled', () => {
    for (const absent of ['tsx', 'typescript', 'esbuild', '@mtandao/routeros-sim', '@mtandao/controller', 'mocha'])
      expect(existsSync(path.join(modules, absent)), absent).to.equal(false);
    expect(existsSync(path.join(modules, '@mtandao/agent/dist/cli.js'))).to.equal(true);
    expect(existsSync(path.join(modules, '@mtandao/agent/src'))).to.equal(false);
    // bundled inside the agent's own tarball, not fetched from a registry
    expect(existsSync(path.join(modules, '@mtandao/agent/node_modules/@mtandao/protocol/dist/index.js'))).to.equal(true);
  });

  it('enrols, runs against an emulated router, and a customer lands', async () => {
    controller = await startTestController({ MTANDAO_HEARTBEAT_SECONDS: '2' });
    const api = await new ApiClient(controller.url).login('admin', ADMIN_PASSWORD);
    const fx = new Fixtures(api);
    const world = await fx.world();
    sim = new RouterOsSim({ username: ROUTER_USER, password: ROUTER_PASSWORD, sshPort: null, identity: 'packed-router' });
    const { apiPort } = await sim.start();

    const stateDir = path.join(scratch, 'state');
    const token = expectStatus(await api.post(`/sites/${world.site.id}/enrollment-tokens`), 201) as { token: string };
    const enrolled = await exec(process.execPath, [bin, 'enroll', '--controller', controller.url, '--token', token.token, '--state-dir', stateDir]);
    expect(enrolled.stdout).to.contain('enrolled as agent agt_');

    const configFile = path.join(scratch, 'agent.json');
    const router = { name: world.router.name, host: '127.0.0.1', port: apiPort, transport: 'api', username: ROUTER_USER, password: ROUTER_PASSWORD };
    writeFileSync(configFile, JSON.stringify({ routers: [router], logLevel: 'info', healthIntervalSeconds: 30 }), { mode: 0o600 });
    let log = '';
    child = spawn(process.execPath, [bin, 'run', '--config', configFile, '--state-dir', stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    await eventually(async () => (log.includes('connected to the controller') ? true : undefined), 'the packed agent to connect', 20_000);

    const c = expectStatus(
      await api.post('/customers', fx.customerBody(world.pppoe.id as string, { ipAddress: '10.64.12.7', username: 'packed.customer' })),
      201,
    ) as Body;
    await allApplied(api);
    const secret = sim.store.list('/ppp/secret').find((s) => s.comment === `mtandao:${c.id}`);
    expect(secret).to.include({ name: 'packed.customer', 'remote-address': '10.64.12.7' });
    expect(log).not.to.contain(ROUTER_PASSWORD);

    const checked = await exec(process.execPath, [bin, 'doctor', '--config', configFile, '--state-dir', stateDir]);
    expect(checked.stdout.trim().split('\n').at(-1)).to.match(/^all good/);
  });
});
