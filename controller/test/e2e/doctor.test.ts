import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { enrollAgent } from '@mtandao/agent';
import { expectStatus } from '../helpers/client.ts';
import { ROUTER_PASSWORD, ROUTER_USER, startStack, type Stack } from '../helpers/stack.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs `mtandao-agent doctor` as a process; resolves its exit code and what it printed. */
function doctor(configFile: string, stateDir: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [
        '--conditions=mtandao-source',
        '--import',
        'tsx',
        path.join(repoRoot, 'agent/bin/mtandao-agent.mjs'),
        'doctor',
        '--config',
        configFile,
        '--state-dir',
        stateDir,
      ],
      { timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

/** Issue 12 item 3: `mtandao-agent doctor` against a real controller and the RouterOS emulator. */
describe('mtandao-agent doctor', function () {
  this.timeout(120_000);
  let stack: Stack;
  before(async () => {
    stack = await startStack({ transport: 'api' });
  });
  after(async () => stack?.stop());

  const writeConfig = (body: unknown): string => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'mtandao-doctor-')), 'agent.json');
    writeFileSync(file, JSON.stringify(body), { mode: 0o600 });
    return file;
  };

  it('says all is good for a working site, and exits 0', async () => {
    const { code, out } = await doctor(stack.configFile, stack.stateDir);
    expect(out).to.contain(`controller ${stack.controller.url}/`).and.contain('answers (HTTP 200 from /readyz');
    expect(out).to.match(/accepts this agent \(agt_[0-9a-f]+\)/);
    expect(out).to.contain(`api login as "${ROUTER_USER}" at 127.0.0.1:${stack.ports.apiPort} works; RouterOS 7.18.2 (stable), identity "test-router"`);
    expect(out).to.match(/router \S+\s+ok|ok\s+router/);
    expect(out).to.contain('clock within');
    expect(out).not.to.contain('FAIL');
    expect(out).not.to.contain(ROUTER_PASSWORD);
    expect(out.trim().split('\n').at(-1)).to.match(/^all good/);
    expect(code).to.equal(0);
  });

  it('names every problem in words and exits non-zero: a wrong password, a closed port, a dead controller instance, a router clock off by 10 minutes', async () => {
    stack.sim.store.clockOffsetMs = 10 * 60_000;
    const closed = await closedPort();
    try {
      const configFile = writeConfig({
        controllers: [`http://127.0.0.1:${closed}`],
        routers: [
          { name: stack.routerName, host: '127.0.0.1', port: stack.ports.apiPort, transport: 'api', username: ROUTER_USER, password: ROUTER_PASSWORD },
          { name: 'wrong-password', host: '127.0.0.1', port: stack.ports.apiPort, transport: 'api', username: ROUTER_USER, password: 'not-it' },
          { name: 'closed-port', host: '127.0.0.1', port: closed, transport: 'api', username: ROUTER_USER, password: ROUTER_PASSWORD },
        ],
      });
      const { code, out } = await doctor(configFile, stack.stateDir);
      expect(code).to.equal(5);
      expect(out).to.match(
        new RegExp(
          `FAIL\\s+controller http://127\\.0\\.0\\.1:${closed}/\\s+cannot reach it: nothing listens at 127\\.0\\.0\\.1:${closed} \\(connection refused`,
        ),
      );
      expect(out).to.match(/FAIL\s+router wrong-password\s+the router refused the login of "mtandao"/);
      expect(out).to.match(new RegExp(`FAIL\\s+router closed-port\\s+cannot reach 127\\.0\\.0\\.1:${closed} over api`));
      // the router's clock reads to the second and the round trip blurs it: 10 min, give or take a few seconds on a loaded machine
      expect(out, out).to.match(new RegExp(`FAIL\\s+router ${stack.routerName}\\s+the router's clock is (10 min( \\d s)?|9 min 5\\d s) ahead of this machine`));
      expect(out).to.contain('/system/ntp/client');
      expect(out).to.match(/accepts this agent/);
      expect(out).not.to.contain('not-it');
      expect(out.trim().split('\n').at(-1)).to.match(/^4 problems found/);
    } finally {
      stack.sim.store.clockOffsetMs = 0;
    }
  });

  it('says when the controller no longer accepts this agent (the site enrolled another), and when nothing is enrolled', async () => {
    const otherDir = mkdtempSync(path.join(tmpdir(), 'mtandao-doctor-other-'));
    const token = expectStatus(await stack.api.post(`/sites/${stack.world.site.id}/enrollment-tokens`), 201) as { token: string };
    await enrollAgent({ controllerUrl: stack.controller.url, token: token.token, stateDir: otherDir });
    const revoked = await doctor(stack.configFile, stack.stateDir);
    expect(revoked.code).to.equal(5);
    expect(revoked.out).to.match(/FAIL\s+controller \S+\s+refuses this agent \(agt_[0-9a-f]+\) at ws:\/\/.*HTTP 401/);
    expect(revoked.out).to.contain('enrol again with a new token');

    const empty = await doctor(stack.configFile, mkdtempSync(path.join(tmpdir(), 'mtandao-doctor-empty-')));
    expect(empty.code).to.equal(5);
    expect(empty.out).to.match(/FAIL\s+enrolment\s+.* holds no agent identity: run mtandao-agent enroll/);
    // the routers are still checked
    expect(empty.out).to.contain(`api login as "${ROUTER_USER}"`);
  });
});
