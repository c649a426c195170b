import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { RouterOSAPI } from 'node-routeros';
import { openRouter } from '../src/drivers/index.ts';
import { RouterOsApiClient } from '../src/drivers/routeros-api/client.ts';
import { encodeSentence } from '../src/drivers/routeros-api/wire.ts';
import type { RouterConfig } from '../src/drivers/types.ts';
import { behavesAsRouterClient, rejection } from './helpers/sim-contract.ts';
import { PASSWORD, routerPerSuite, startRouter, USER, type Router } from './helpers/sim-fixtures.ts';
import { startFakeRouter, startSplittingProxy } from './helpers/sim-net.ts';

const fakeConfig = (port: number): RouterConfig => ({ name: 'fake', host: '127.0.0.1', port, transport: 'api', username: 'u', password: 'p', timeoutMs: 2000 });

/**
 * A router whose print reply is sent in three TCP segments, 50 ms apart: the first ends exactly at
 * a word boundary, the second holds only the first byte of the next word's 2-byte length prefix.
 */
function startSplitPrefixRouter(): ReturnType<typeof startFakeRouter> {
  return startFakeRouter((words, session) => {
    if (words[0] !== '/ppp/profile/print') return [['!done']];
    const tag = words.find((w) => w.startsWith('.tag=')) ?? '.tag=0';
    const head = ['!re', tag, '=name=long'];
    const bytes = Buffer.concat([encodeSentence([...head, `=comment=${'x'.repeat(300)}`]), encodeSentence(['!done', tag])]);
    const cut = encodeSentence(head).length - 1;
    const parts = [bytes.subarray(0, cut), bytes.subarray(cut, cut + 1), bytes.subarray(cut + 1)];
    // far apart, and not held back by Nagle: the client must read each part on its own, even on a busy machine
    session.socket.setNoDelay(true);
    parts.forEach((part, i) => setTimeout(() => session.socket.write(part), i * 250));
    return undefined;
  });
}

/**
 * Runs node-routeros in a child process against `port`, so a crash it causes ends that process and
 * not the test run. `script` sees `api` (a RouterOSAPI) and `done(text)`.
 */
function nodeRouteros(port: number, script: string, options: { timeout?: number; waitMs?: number } = {}): Promise<{ exitCode: number | null; output: string }> {
  const code = `
    const { RouterOSAPI } = require('node-routeros');
    const api = new RouterOSAPI({ host: '127.0.0.1', port: ${port}, user: ${JSON.stringify(USER)}, password: ${JSON.stringify(PASSWORD)}, timeout: ${options.timeout ?? 30} });
    const done = (text) => { console.log(text); process.exit(0); };
    ${script}`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', code], { cwd: process.cwd() });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill(), options.waitMs ?? 4000);
    child.on('exit', (exitCode) => {
      clearTimeout(timer);
      resolve({ exitCode, output });
    });
  });
}

describe('RouterOS API driver', () => {
  const suite = routerPerSuite({ sshPort: null, apiSslPort: 0 });
  let router: Router;
  let client: RouterOsApiClient;
  beforeEach(() => {
    router = suite();
    client = new RouterOsApiClient(router.config('api'));
  });
  afterEach(() => client.close());

  behavesAsRouterClient('api', suite);

  it("keeps a trap's message and category, verbatim, as a non-retryable trap", async () => {
    await client.add('/ppp/secret', { name: 'd2' });
    const dup = await rejection(client.add('/ppp/secret', { name: 'd2' }));
    expect(dup).to.include({ category: 'trap', routerMessage: 'failure: secret with the same name already exists', trapCategory: 4, retryable: false });
    expect(await rejection(client.remove('/ppp/secret', '*FFFF'))).to.include({ category: 'trap', routerMessage: 'no such item', trapCategory: 1 });
  });

  it('reports a router that is down as unreachable and retryable, failing the queue at once', async () => {
    router.sim.setDown(true);
    const started = Date.now();
    const errors = await Promise.all(Array.from({ length: 50 }, (_, i) => rejection(client.print('/ppp/secret', { where: { name: `x${i}` } }))));
    expect(Date.now() - started, 'failed at once, not after a timeout each').to.be.lessThan(4000);
    for (const e of errors) expect(e).to.include({ category: 'unreachable', retryable: true });
    expect(client.stats.connects).to.equal(0);
  });

  it('pipelines at most maxInFlight commands on its one connection and queues the rest', async () => {
    const narrow = new RouterOsApiClient(router.config('api'), { maxInFlight: 8 });
    await narrow.print('/system/identity');
    router.sim.resetStats();
    router.sim.setLatency(40);
    const started = Date.now();
    await Promise.all(Array.from({ length: 40 }, () => narrow.print('/system/identity')));
    const elapsed = Date.now() - started;
    expect(router.sim.stats.maxInFlightPerConnection).to.equal(8);
    expect(elapsed, 'five waves of eight, not one').to.be.at.least(5 * 40 - 5);
    await narrow.close();
  });

  it('survives an idle connection far beyond the command timeout', async () => {
    const idle = new RouterOsApiClient(router.config('api'), { timeoutMs: 100 });
    await idle.print('/system/identity');
    await new Promise((r) => setTimeout(r, 400));
    expect(await idle.print('/system/identity')).to.have.length(1);
    expect(idle.stats.connects).to.equal(1);
    await idle.close();
  });

  it('rejects every command in flight as unreachable when the connection is reset, then reconnects', async () => {
    await client.print('/system/identity');
    router.sim.setLatency(300);
    const inFlight = Array.from({ length: 5 }, () => rejection(client.print('/system/identity')));
    await new Promise((r) => setTimeout(r, 50));
    const resetAt = Date.now();
    router.sim.resetConnections();
    for (const e of await Promise.all(inFlight)) expect(e).to.include({ category: 'unreachable', retryable: true });
    expect(Date.now() - resetAt, 'rejected by the reset, not by the 300 ms replies').to.be.lessThan(250);
    router.sim.setLatency(0);
    expect(await client.print('/system/identity')).to.have.length(1);
  });

  it('times out a command nothing answers, and reconnects for the next one', async () => {
    router.sim.setLatency(500);
    const slow = new RouterOsApiClient(router.config('api'), { timeoutMs: 100 });
    await rejection(slow.print('/system/identity')).then((e) => expect(e).to.include({ category: 'unreachable' }));
    router.sim.setLatency(0);
    expect(await slow.print('/system/identity')).to.have.length(1);
    await slow.close();
  });

  it("returns no rows for RouterOS 7.18's !empty", async () => {
    expect(await client.print('/ppp/secret', { where: { name: 'nobody' } })).to.deep.equal([]);
  });

  it("returns no rows for RouterOS 6.49's bare !done", async () => {
    const old = await startRouter({ sshPort: null, version: '6.49.17' });
    const c = openRouter(old.config('api'));
    expect(await c.print('/ppp/secret')).to.deep.equal([]);
    await c.close();
    await old.sim.stop();
  });

  it('sends and reads Windows-1252 byte-exact (café €), and refuses text with no Windows-1252 form before writing', async () => {
    const id = await client.add('/ppp/secret', { name: 'w1252', password: 'café €' });
    expect(router.sim.store.get('/ppp/secret', id)?.password).to.equal('café €');
    expect((await client.print('/ppp/secret', { where: { name: 'w1252' } }))[0]?.password).to.equal('café €');
    const writes = router.sim.stats.writes;
    const e = await rejection(client.set('/ppp/secret', id, { password: 'пароль' }));
    expect(e).to.include({ category: 'invalid', retryable: false });
    expect(router.sim.stats.writes).to.equal(writes);
    expect(router.sim.store.get('/ppp/secret', id)?.password).to.equal('café €');
  });

  it('reads replies that arrive one byte per TCP segment', async () => {
    router.sim.store.add('/ppp/profile', { name: 'split', comment: 'x'.repeat(300) });
    const proxy = await startSplittingProxy(router.ports.apiPort);
    const c = new RouterOsApiClient({ ...router.config('api'), port: proxy.port });
    const rows = await c.print('/ppp/profile');
    expect(rows.map((r) => r.name)).to.deep.equal(['default', 'default-encryption', 'split']);
    expect(rows[2]?.comment).to.equal('x'.repeat(300));
    await c.close();
    proxy.close();
  });

  it('reads a length prefix split across two TCP segments', async () => {
    const fake = await startSplitPrefixRouter();
    const c = new RouterOsApiClient(fakeConfig(fake.port));
    expect(await c.print('/ppp/profile')).to.deep.equal([{ name: 'long', comment: 'x'.repeat(300) }]);
    await c.close();
    fake.close();
  });

  it('drops late replies to a command it gave up on (after /cancel), and keeps the session', async () => {
    let cancelled: string | undefined;
    const fake = await startFakeRouter((words, session) => {
      if (words[0] === '/ppp/secret/print') return undefined; // never answered…
      if (words[0] === '/cancel') {
        // …until cancelled: the trap and done arrive for a tag the driver no longer waits on.
        cancelled = words.find((w) => w.startsWith('=tag='))?.slice(5);
        session.socket.write(
          Buffer.concat([
            encodeSentence(['!trap', `.tag=${cancelled}`, '=category=2', '=message=interrupted']),
            encodeSentence(['!done', `.tag=${cancelled}`]),
          ]),
        );
        return [['!done']];
      }
      return [['!re', '=name=fake'], ['!done']];
    });
    const c = new RouterOsApiClient(fakeConfig(fake.port), { timeoutMs: 150 });
    const keepBusy = setInterval(() => void c.print('/system/identity').catch(() => undefined), 20);
    const e = await rejection(c.print('/ppp/secret'));
    clearInterval(keepBusy);
    expect(e.category).to.equal('unreachable');
    await new Promise((r) => setTimeout(r, 50));
    expect(cancelled).to.be.a('string');
    expect(await c.print('/system/identity')).to.deep.equal([{ name: 'fake' }]);
    expect(fake.connections()).to.equal(1);
    await c.close();
    fake.close();
  });

  it('fails only the command that got an unknown reply word', async () => {
    const fake = await startFakeRouter((words) => (words[0] === '/ppp/secret/print' ? [['!bogus'], ['!done']] : [['!re', '=name=fake'], ['!done']]));
    const c = new RouterOsApiClient(fakeConfig(fake.port));
    expect(await rejection(c.print('/ppp/secret'))).to.include({ category: 'protocol', routerMessage: '!bogus' });
    expect(await c.print('/system/identity')).to.deep.equal([{ name: 'fake' }]);
    expect(fake.connections()).to.equal(1);
    await c.close();
    fake.close();
  });

  it("reports !fatal as a protocol error with the router's reason, and reconnects", async () => {
    const fake = await startFakeRouter((words, session) => {
      if (words[0] !== '/ppp/secret/print') return [['!re', '=name=fake'], ['!done']];
      session.socket.end(Buffer.concat([Buffer.from([6]), Buffer.from('!fatal'), Buffer.from([17]), Buffer.from('too many sessions'), Buffer.from([0])]));
      return undefined;
    });
    const c = new RouterOsApiClient(fakeConfig(fake.port));
    expect(await rejection(c.print('/ppp/secret'))).to.include({ category: 'protocol', routerMessage: 'too many sessions', retryable: true });
    expect(await c.print('/system/identity')).to.deep.equal([{ name: 'fake' }]);
    expect(fake.connections()).to.equal(2);
    await c.close();
    fake.close();
  });

  it('talks api-ssl to a router with no certificate (anonymous DH)', async () => {
    const ssl = openRouter(router.config('api-ssl'));
    expect((await ssl.health()).identity).to.equal('test-router');
    await ssl.close();
  });

  it('refuses an anonymous api-ssl peer when certificate verification is on', async () => {
    const ssl = openRouter(router.config('api-ssl', { tlsRejectUnauthorized: true }));
    expect(await rejection(ssl.health())).to.include({ category: 'unreachable' });
    await ssl.close();
  });
});

describe('node-routeros 1.6.9, which the API driver replaces (each failure above, reproduced)', () => {
  const suite = routerPerSuite({ sshPort: null });
  let router: Router;
  beforeEach(() => {
    router = suite();
  });

  it("crashes the process on RouterOS 7.18's !empty (UNKNOWNREPLY thrown from the socket handler)", async () => {
    const run = await nodeRouteros(
      router.ports.apiPort,
      `api.connect().then(() => api.write('/ppp/secret/print')).then((r) => done('RESULT ' + JSON.stringify(r)), (e) => done('REJECTED ' + e.message));`,
    );
    expect(run.exitCode).to.equal(1);
    expect(run.output).to.contain('Tried to process unknown reply: !empty');
  });

  it('crashes the process when the socket sits idle past its timeout (error event with no listener)', async () => {
    const run = await nodeRouteros(router.ports.apiPort, `api.connect().then(() => setTimeout(() => done('survived'), 2500));`, { timeout: 1 });
    expect(run.exitCode).to.equal(1);
    expect(run.output).to.contain("Unhandled 'error' event").and.contain('Timed out after 1 seconds');
  });

  it('never rejects a command in flight when the connection is reset: it hangs, or ECONNRESET kills the process', async () => {
    router.sim.resetStats();
    router.sim.setLatency(500);
    const run = nodeRouteros(
      router.ports.apiPort,
      `api.on('error', () => {});
       api.connect().then(() => {
         api.write('/system/identity/print').then(() => done('settled'), () => done('rejected'));
         setTimeout(() => done('still pending'), 1500);
       });`,
      // it ends itself (answer or 1.5 s after login): the kill is only a backstop, late on a loaded machine
      { waitMs: 15_000 },
    );
    // reset only once the print is on the wire and unanswered (login, then the print, held by the latency)
    const until = Date.now() + 15_000;
    while (!(router.sim.stats.commands >= 2 && router.sim.stats.inFlight > 0) && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    router.sim.resetConnections();
    const { output } = await run;
    router.sim.setLatency(0);
    expect(output).to.not.match(/settled|rejected/);
    expect(output.trim() === 'still pending' || /RosException[\s\S]*errno: -104/.test(output), output).to.equal(true);
  });

  it('hangs when a length prefix is split across two TCP segments', async () => {
    const fake = await startSplitPrefixRouter();
    const run = await nodeRouteros(
      fake.port,
      `api.connect().then(() => api.write('/ppp/profile/print')).then((r) => done('RESULT ' + JSON.stringify(r)), (e) => done('REJECTED ' + e.message));`,
      { waitMs: 2000 },
    );
    fake.close();
    expect(run).to.deep.equal({ exitCode: null, output: '' }); // killed after 2 s without an answer
  });

  it('crashes the process on a reply for a tag it no longer reads (UNREGISTEREDTAG)', async () => {
    const fake = await startFakeRouter((words) => (words[0] === '/system/identity/print' ? [['!re', '=name=fake'], ['!done'], ['!done']] : [['!done']]));
    const run = await nodeRouteros(
      fake.port,
      `api.connect().then(() => api.write('/system/identity/print')).then(() => setTimeout(() => done('survived'), 300));`,
    );
    fake.close();
    expect(run.exitCode).to.equal(1);
    expect(run.output).to.contain('Received data on unregistered tag');
  });

  it('drops the !trap category', async () => {
    const api = new RouterOSAPI({ host: '127.0.0.1', port: router.ports.apiPort, user: USER, password: PASSWORD });
    await api.connect();
    await api.write('/ppp/secret/add', ['=name=nr-dup']);
    const e = await api.write('/ppp/secret/add', ['=name=nr-dup']).then(
      () => undefined,
      (err: unknown) => err,
    );
    await api.close();
    expect((e as Error).message).to.equal('failure: secret with the same name already exists');
    expect(Object.keys(e as object)).to.not.include('category');
  });

  it('writes ? for every character with no Windows-1252 form, without a word', async () => {
    const api = new RouterOSAPI({ host: '127.0.0.1', port: router.ports.apiPort, user: USER, password: PASSWORD });
    await api.connect();
    const [{ ret }] = (await api.write('/ppp/secret/add', ['=name=nr-utf', '=password=пароль'])) as [{ ret: string }];
    await api.close();
    expect(router.sim.store.get('/ppp/secret', ret)?.password).to.equal('??????');
  });
});
