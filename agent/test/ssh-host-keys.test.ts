import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { fingerprint, RouterOsSshClient } from '../src/drivers/ssh/client.ts';
import { RouterError } from '../src/drivers/types.ts';
import { generateHostKey } from '@mtandao/routeros-sim';
import { HOST_KEYS_FILE, HostKeyStore } from '../src/state/host-keys.ts';
import { rejection } from './helpers/sim-contract.ts';
import { startRouter, type Router } from './helpers/sim-fixtures.ts';

const fingerprintOf = (key: { public: string }) => fingerprint(Buffer.from(key.public.split(' ')[1] as string, 'base64'));

describe('SSH host keys without sshHostKey: pinned on first use', () => {
  const first = generateHostKey();
  const second = generateHostKey();
  let router: Router;
  let stateDir: string;
  let sshPort: number;
  const clients: RouterOsSshClient[] = [];
  const client = async (): Promise<RouterOsSshClient> => {
    const c = new RouterOsSshClient(router.config('ssh', { name: 'edge-7' }), { hostKeys: await HostKeyStore.open(stateDir) });
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'mtandao-hostkeys-'));
    router = await startRouter({ apiPort: 0, hostKey: first.private });
    sshPort = router.ports.sshPort!;
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await router.sim.stop();
  });

  /** The same router address, now answering with another host key (a replaced router, or a man in the middle). */
  async function restartWith(key: { private: string }): Promise<void> {
    await router.sim.stop();
    router = await startRouter({ apiPort: 0, sshPort, hostKey: key.private });
  }

  it("pins the router's key in the state directory on first use, readable only by the agent", async () => {
    expect((await (await client()).health()).identity).to.equal('test-router');
    const file = join(stateDir, HOST_KEYS_FILE);
    const pins = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { fingerprint: string; router: string }>;
    expect(pins[`127.0.0.1:${sshPort}`]).to.include({ fingerprint: fingerprintOf(first), router: 'edge-7' });
    expect(statSync(file).mode & 0o077).to.equal(0);
  });

  it('keeps talking to the router while its key stays the same, across agent restarts', async () => {
    await (await client()).health();
    await restartWith(first);
    expect((await (await client()).health()).identity).to.equal('test-router');
  });

  it('refuses a changed key with an error naming the router, the expected and the presented fingerprint', async () => {
    await (await client()).health();
    await restartWith(second);
    const c = await client();
    const error = await rejection(c.health());
    expect(error).to.be.instanceOf(RouterError);
    expect(error).to.include({ category: 'login', retryable: false });
    const message = (error as Error).message;
    expect(message).to.contain('edge-7');
    expect(message).to.contain(`presented SSH host key ${fingerprintOf(second)}`);
    expect(message).to.contain(`expected ${fingerprintOf(first)}`);
    expect(router.sim.stats.logins, 'no password sent to the impostor').to.equal(0);
    expect(await rejection(c.print('/ppp/secret'))).to.include({ category: 'login' });
  });

  it('a configured sshHostKey wins over the pin and is named in the refusal', async () => {
    const c = new RouterOsSshClient(router.config('ssh', { name: 'edge-7', sshHostKey: fingerprintOf(second) }), {
      hostKeys: await HostKeyStore.open(stateDir),
    });
    clients.push(c);
    const message = ((await rejection(c.health())) as Error).message;
    expect(message).to.contain(`presented SSH host key ${fingerprintOf(first)}, expected ${fingerprintOf(second)}`);
  });
});
