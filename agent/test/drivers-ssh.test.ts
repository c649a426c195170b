import { expect } from 'chai';
import { cliArgs, quoteCli, rowsFromTerse } from '../src/drivers/ssh/cli.ts';
import { fingerprint, RouterOsSshClient } from '../src/drivers/ssh/client.ts';
import { behavesAsRouterClient, rejection } from './helpers/sim-contract.ts';
import { routerPerSuite, startRouter, type Router } from './helpers/sim-fixtures.ts';
import { RouterError } from '../src/drivers/types.ts';
import { generateHostKey } from '@mtandao/routeros-sim';

// Every character the console treats specially, and some it does not.
const NASTY = [
  'quo"te',
  'semi;colon',
  'dollar$x and $(y)',
  '[/system reboot]',
  'back\\slash\\',
  'new\nline\r\n',
  'tab\tbell\x07esc\x1b',
  'ques?tion',
  '{brace} #hash',
  'café € ÿ',
  ' lead and trail ',
  '',
];

describe('SSH driver: quoting', () => {
  it('writes every value as a quoted string of printable ASCII', () => {
    expect(quoteCli('a"b\\c$d?e')).to.equal(String.raw`"a\"b\\c\$d\?e"`);
    expect(quoteCli('line\nbreak\x7f')).to.equal(String.raw`"line\0Abreak\7F"`);
    expect(quoteCli('café €')).to.equal(String.raw`"caf\E9 \80"`);
    for (const v of NASTY) expect(quoteCli(v)).to.match(/^"[\x20-\x7e]*"$/);
  });

  it('refuses a property name that could break out of its place', () => {
    expect(() => cliArgs({ 'name=x;/system reboot': 'v' })).to.throw(RouterError);
  });

  it('refuses text with no Windows-1252 form', () => {
    expect(() => quoteCli('пароль')).to.throw(/Windows-1252/);
  });

  it('reads print terse lines, values running to the next key', () => {
    expect(rowsFromTerse('*1 X  comment=a b name=x password=p w\n*2    name=y\n')).to.deep.equal([
      { '.id': '*1', comment: 'a b', name: 'x', password: 'p w', disabled: 'true' },
      { '.id': '*2', name: 'y', disabled: 'false' },
    ]);
    expect(rowsFromTerse('failure: whatever')).to.equal(undefined);
  });
});

describe('SSH driver', () => {
  const suite = routerPerSuite({ apiPort: 0 });
  let router: Router;
  let client: RouterOsSshClient;
  beforeEach(() => {
    router = suite();
    client = new RouterOsSshClient(router.config('ssh'));
  });
  afterEach(() => client.close());

  behavesAsRouterClient('ssh', suite);

  it('lands quotes, ;, $, [ ], \\, line breaks, control characters and Windows-1252 text verbatim in names, passwords and comments', async () => {
    for (const [i, value] of NASTY.entries()) {
      const id = await client.add('/ppp/secret', { name: `n${i}${value}`, password: value, comment: value });
      expect(router.sim.store.get('/ppp/secret', id), JSON.stringify(value)).to.include({ name: `n${i}${value}`, password: value, comment: value });
      const [row] = await client.print('/ppp/secret', { where: { name: `n${i}${value}` } });
      expect(row, JSON.stringify(value)).to.include({ password: value, comment: value });
    }
    expect(router.sim.store.list('/system/identity')[0]?.name).to.equal('test-router');
  });

  it('reports a parse error as a protocol error', async () => {
    expect(await rejection(client.add('/ppp/secret', { colour: 'red' }))).to.include({
      category: 'protocol',
      routerMessage: 'expected end of command (line 1 column 23)',
    });
  });

  it('times out a command the router does not answer', async () => {
    // a timeout the first command meets even on a loaded machine, and a router far slower than it
    const slow = new RouterOsSshClient(router.config('ssh'), { timeoutMs: 800 });
    await slow.print('/system/identity');
    router.sim.setLatency(3000);
    expect(await rejection(slow.print('/system/identity'))).to.include({ category: 'unreachable' });
    router.sim.setLatency(0);
    await slow.close();
  });

  it('checks the host key when one is pinned', async () => {
    const key = generateHostKey();
    const pinned = await startRouter({ apiPort: 0, hostKey: key.private });
    const good = fingerprint(Buffer.from(key.public.split(' ')[1] as string, 'base64'));
    const ok = new RouterOsSshClient(pinned.config('ssh', { sshHostKey: good }));
    expect((await ok.health()).identity).to.equal('test-router');
    const bad = new RouterOsSshClient(pinned.config('ssh', { sshHostKey: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }));
    expect(await rejection(bad.health())).to.include({ category: 'login', retryable: false });
    await ok.close();
    await bad.close();
    await pinned.sim.stop();
  });

  it('reads print terse on RouterOS before 7.13, which has no :serialize', async () => {
    const old = await startRouter({ apiPort: 0, version: '6.49.17' });
    const c = new RouterOsSshClient(old.config('ssh'));
    const id = await c.add('/ppp/secret', { name: 'old', password: 'p w"q', comment: 'mtandao:old' });
    expect(await c.print('/ppp/secret', { where: { comment: 'mtandao:old' }, proplist: ['name', 'password', 'comment', 'disabled'] })).to.deep.equal([
      { '.id': id, comment: 'mtandao:old', name: 'old', password: 'p w"q', disabled: 'false' },
    ]);
    await c.close();
    await old.sim.stop();
  });

  it('counts entries on RouterOS 6 too, in one command line', async () => {
    const old = await startRouter({ apiPort: 0, version: '6.49.17' });
    const c = new RouterOsSshClient(old.config('ssh'));
    old.sim.store.add('/ip/hotspot/user', { name: 'old.hs' });
    await c.health(); // the session is open
    const before = c.stats.commands;
    expect(await c.countEntries(['/ppp/secret', '/ip/hotspot/user'])).to.deep.equal({ '/ppp/secret': 0, '/ip/hotspot/user': 1 });
    expect(c.stats.commands - before).to.equal(1);
    await c.close();
    await old.sim.stop();
  });
});
