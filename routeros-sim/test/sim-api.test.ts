import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { PASSWORD, startRouter, USER, type Router } from './helpers/fixtures.ts';
import { RawApi } from '../src/raw-api.ts';

const trapOf = (reply: string[][]): string[] | undefined => reply.find((s) => s[0] === '!trap');
const retOf = (reply: string[][]): string =>
  reply
    .at(-1)
    ?.find((w) => w.startsWith('=ret='))
    ?.slice(5) ?? '';
const attrs = (sentence: string[] | undefined): Record<string, string> =>
  Object.fromEntries((sentence ?? []).filter((w) => w.startsWith('=')).map((w) => [w.slice(1, w.indexOf('=', 1)), w.slice(w.indexOf('=', 1) + 1)]));

describe('RouterOS emulator API', () => {
  let router: Router;
  let api: RawApi;
  before(async () => {
    router = await startRouter({ sshPort: null });
  });
  beforeEach(async () => {
    api = await RawApi.login(router.ports.apiPort, USER, PASSWORD);
  });
  afterEach(() => {
    api.close();
    router.sim.setLatency(0);
    router.sim.setOpCost(0);
    router.sim.refuseLogins(false);
    router.sim.setDown(false);
  });
  after(() => router.sim.stop());

  describe('login', () => {
    it("refuses a wrong password with RouterOS's own words and keeps the connection", async () => {
      const raw = await RawApi.open(router.ports.apiPort);
      const reply = await raw.call(['/login', `=name=${USER}`, '=password=wrong']);
      expect(reply).to.deep.equal([['!trap', '=message=invalid user name or password (6)'], ['!done']]);
      expect((await raw.call(['/login', `=name=${USER}`, `=password=${PASSWORD}`])).at(-1)).to.deep.equal(['!done']);
      raw.close();
    });

    it('refuses every login while refuseLogins is on, and counts it', async () => {
      router.sim.refuseLogins(true);
      const before = router.sim.stats.loginFailures;
      const raw = await RawApi.open(router.ports.apiPort);
      expect(trapOf(await raw.call(['/login', `=name=${USER}`, `=password=${PASSWORD}`]))).to.deep.equal([
        '!trap',
        '=message=invalid user name or password (6)',
      ]);
      expect(router.sim.stats.loginFailures).to.equal(before + 1);
      raw.close();
    });

    it('ends a session that sends a command before logging in with !fatal', async () => {
      const raw = await RawApi.open(router.ports.apiPort);
      raw.send(['/ppp/secret/print']);
      await raw.waitFor(() => raw.closed);
      expect(raw.received).to.deep.equal([['!fatal', 'not logged in']]);
    });

    it('still accepts the pre-6.43 MD5 challenge login', async () => {
      const raw = await RawApi.open(router.ports.apiPort);
      const challenge = retOf(await raw.call(['/login']));
      const digest = createHash('md5')
        .update(Buffer.concat([Buffer.from([0]), Buffer.from(PASSWORD), Buffer.from(challenge, 'hex')]))
        .digest('hex');
      expect(await raw.call(['/login', `=name=${USER}`, `=response=00${digest}`])).to.deep.equal([['!done']]);
      raw.close();
    });
  });

  describe('tags, latency and /cancel', () => {
    it('echoes .tag on every reply sentence and answers interleaved tags concurrently', async () => {
      router.sim.setLatency(150);
      const started = Date.now();
      for (const tag of ['a', 'b', 'c']) api.send(['/system/identity/print', `.tag=${tag}`]);
      await api.waitFor(() => ['a', 'b', 'c'].every((t) => api.tagged(t).some((s) => s[0] === '!done')));
      expect(Date.now() - started, 'concurrently: one by one would take 450 ms').to.be.lessThan(440);
      for (const tag of ['a', 'b', 'c'])
        expect(api.tagged(tag)).to.deep.equal([
          ['!re', `.tag=${tag}`, '=name=test-router'],
          ['!done', `.tag=${tag}`],
        ]);
    });

    it('serialises writes on the router CPU across connections, but not reads', async () => {
      router.sim.setOpCost(40);
      const other = await RawApi.login(router.ports.apiPort, USER, PASSWORD);
      const started = Date.now();
      await Promise.all(
        [0, 1, 2].flatMap((i) => [
          api.call(['/ip/firewall/address-list/add', '=list=cpu', `=address=10.9.0.${i}`]),
          other.call(['/ip/firewall/address-list/add', '=list=cpu', `=address=10.9.1.${i}`]),
        ]),
      );
      expect(Date.now() - started).to.be.at.least(6 * 40 - 5);
      const readStart = Date.now();
      await Promise.all([1, 2, 3, 4, 5, 6].map(() => other.call(['/system/identity/print'])));
      expect(Date.now() - readStart, 'reads do not queue behind the 40 ms writes (six would take 240 ms)').to.be.lessThan(200);
      other.close();
    });

    it("cancels a listen with /cancel: !trap interrupted, then the cancel's !done, then the listen's !done", async () => {
      api.send(['/ppp/active/listen', '.tag=l']);
      await new Promise((r) => setTimeout(r, 20));
      router.sim.store.addPppSession('listener');
      await api.waitFor(() => api.tagged('l').length === 1);
      expect(attrs(api.tagged('l')[0]).name).to.equal('listener');
      api.send(['/cancel', '=tag=l', '.tag=c']);
      await api.waitFor(() => api.tagged('l').some((s) => s[0] === '!done'));
      const order = api.received.slice(-3);
      expect(order).to.deep.equal([
        ['!trap', '.tag=l', '=category=2', '=message=interrupted'],
        ['!done', '.tag=c'],
        ['!done', '.tag=l'],
      ]);
    });

    it('cancels a command still waiting for its reply', async () => {
      router.sim.setLatency(300);
      api.send(['/ppp/secret/print', '.tag=slow']);
      api.send(['/cancel', '=tag=slow', '.tag=c2']);
      await api.waitFor(() => api.tagged('slow').some((s) => s[0] === '!done'));
      expect(api.tagged('slow')).to.deep.equal([
        ['!trap', '.tag=slow', '=category=2', '=message=interrupted'],
        ['!done', '.tag=slow'],
      ]);
    });

    it('ends the session on /quit with !fatal', async () => {
      api.send(['/quit']);
      await api.waitFor(() => api.closed);
      expect(api.received.at(-1)).to.deep.equal(['!fatal', 'session terminated on request']);
    });
  });

  describe('print', () => {
    before(async () => {
      const setup = await RawApi.login(router.ports.apiPort, USER, PASSWORD);
      for (const [name, list] of [
        ['q1', 'a'],
        ['q2', 'b'],
        ['q3', 'a'],
      ] as const) {
        await setup.call([
          '/ip/firewall/address-list/add',
          `=list=${list}`,
          `=address=192.0.2.${name.slice(1)}`,
          ...(name === 'q3' ? [] : [`=comment=${name}`]),
        ]);
      }
      setup.close();
    });

    const listed = async (...words: string[]) =>
      (await api.call(['/ip/firewall/address-list/print', '?>address=192.0.2.0', '?<address=192.0.2.9', ...words]))
        .filter((s) => s[0] === '!re')
        .map((s) => attrs(s).address);

    it('filters with ?name=value, ?name, ?-name, ?< and ?>', async () => {
      expect(await listed('?list=a')).to.deep.equal(['192.0.2.1', '192.0.2.3']);
      expect(await listed('?comment')).to.deep.equal(['192.0.2.1', '192.0.2.2']);
      expect(await listed('?-comment')).to.deep.equal(['192.0.2.3']);
      expect(await listed('?<address=192.0.2.2')).to.deep.equal(['192.0.2.1']);
      expect(await listed('?>address=192.0.2.1')).to.deep.equal(['192.0.2.2', '192.0.2.3']);
    });

    it('combines query results with ?#| ?#& and ?#!', async () => {
      expect(await listed('?list=b', '?comment=q1', '?#|')).to.deep.equal(['192.0.2.1', '192.0.2.2']);
      expect(await listed('?list=a', '?comment', '?#&')).to.deep.equal(['192.0.2.1']);
      expect(await listed('?list=a', '?#!')).to.deep.equal(['192.0.2.2']);
    });

    it('returns only the .proplist properties', async () => {
      const reply = await api.call(['/ip/firewall/address-list/print', '?list=b', '=.proplist=.id,address']);
      expect(reply[0]?.filter((w) => w.startsWith('='))).to.have.length(2);
      expect(reply[0]?.[2]).to.equal('=address=192.0.2.2');
    });

    it('answers count-only with =ret=', async () => {
      expect(retOf(await api.call(['/ip/firewall/address-list/print', '?list=a', '=count-only=']))).to.equal('2');
    });

    it('answers count-only of a whole menu with one !done carrying =ret=, 0 on an empty menu, no !re and no !empty (7.18 and 6.49)', async () => {
      const old = await startRouter({ sshPort: null, version: '6.49.17' });
      const raw = await RawApi.login(old.ports.apiPort, USER, PASSWORD);
      try {
        for (const [sim, client] of [
          [router.sim, api],
          [old.sim, raw],
        ] as const) {
          const before = sim.store.list('/ip/hotspot/user').length;
          expect(await client.call(['/ip/hotspot/user/print', '=count-only='])).to.deep.equal([['!done', `=ret=${before}`]]);
          sim.store.add('/ip/hotspot/user', { name: 'count.a' });
          sim.store.add('/ip/hotspot/user', { name: 'count.b', disabled: 'true' });
          expect(await client.call(['/ip/hotspot/user/print', '=count-only='])).to.deep.equal([['!done', `=ret=${before + 2}`]]);
          expect(await client.call(['/queue/simple/print', '?name=nobody', '=count-only='])).to.deep.equal([['!done', '=ret=0']]);
        }
      } finally {
        raw.close();
        await old.sim.stop();
      }
    });

    it('answers a print with no rows with !empty on RouterOS 7.18', async () => {
      expect(await api.call(['/ppp/secret/print', '?name=nobody'])).to.deep.equal([['!empty'], ['!done']]);
    });

    it('answers a print with no rows with a bare !done on RouterOS 6.49', async () => {
      const old = await startRouter({ sshPort: null, version: '6.49.17' });
      const raw = await RawApi.login(old.ports.apiPort, USER, PASSWORD);
      expect(await raw.call(['/ppp/secret/print'])).to.deep.equal([['!done']]);
      expect(attrs((await raw.call(['/system/resource/print']))[0]).version).to.equal('6.49.17 (long-term)');
      raw.close();
      await old.sim.stop();
    });
  });

  describe('writes', () => {
    it("hands out *HEX ids per menu in =ret=, and RouterOS's built-in profile ids", async () => {
      const a = retOf(await api.call(['/ppp/profile/add', '=name=ids-a']));
      const b = retOf(await api.call(['/ppp/profile/add', '=name=ids-b']));
      expect(a).to.match(/^\*[0-9A-F]+$/);
      expect(parseInt(b.slice(1), 16)).to.equal(parseInt(a.slice(1), 16) + 1);
      const builtins = (await api.call(['/ppp/profile/print', '?default=true'])).filter((s) => s[0] === '!re').map((s) => attrs(s)['.id']);
      expect(builtins).to.deep.equal(['*0', '*FFFFFFFE']);
    });

    it("refuses a duplicate secret, a missing item and an unknown profile with RouterOS's words", async () => {
      await api.call(['/ppp/secret/add', '=name=dup']);
      expect(trapOf(await api.call(['/ppp/secret/add', '=name=dup']))).to.deep.equal([
        '!trap',
        '=category=4',
        '=message=failure: secret with the same name already exists',
      ]);
      expect(trapOf(await api.call(['/ppp/secret/remove', '=.id=*FFFF']))).to.deep.equal(['!trap', '=category=1', '=message=no such item']);
      expect(trapOf(await api.call(['/ppp/secret/add', '=name=np', '=profile=nope']))).to.deep.equal([
        '!trap',
        '=category=1',
        '=message=input does not match any value of profile',
      ]);
      expect(trapOf(await api.call(['/ip/hotspot/user/add', '=name=h']))).to.equal(undefined);
      expect(trapOf(await api.call(['/ip/hotspot/user/add', '=name=h']))?.at(-1)).to.equal(
        '=message=failure: already have user with this name for this server',
      );
    });

    it('refuses unknown commands, menus and parameters', async () => {
      expect(trapOf(await api.call(['/ppp/secret/frobnicate']))?.at(-1)).to.equal('=message=no such command');
      expect(trapOf(await api.call(['/ppp/nothing/print']))?.at(-1)).to.equal('=message=no such command prefix');
      expect(trapOf(await api.call(['/ppp/secret/add', '=name=u1', '=colour=red']))?.at(-1)).to.equal('=message=unknown parameter colour');
      expect(trapOf(await api.call(['/ppp/active/add', '=name=x']))?.at(-1)).to.equal('=message=no such command');
    });

    it('reads values back normalised as RouterOS does', async () => {
      const q = retOf(await api.call(['/queue/simple/add', '=name=norm', '=target=10.1.2.3', '=max-limit=5M/10M']));
      const queue = attrs((await api.call(['/queue/simple/print', `?.id=${q}`]))[0]);
      expect(queue).to.include({ target: '10.1.2.3/32', 'max-limit': '5000000/10000000', disabled: 'false' });
      const p = retOf(await api.call(['/ip/hotspot/user/profile/add', '=name=norm', '=session-timeout=30d', '=add-mac-cookie=no']));
      expect(attrs((await api.call(['/ip/hotspot/user/profile/print', `?.id=${p}`]))[0])).to.include({
        'session-timeout': '4w2d',
        'add-mac-cookie': 'false',
        'shared-users': '1',
      });
      const l = retOf(await api.call(['/ip/firewall/address-list/add', '=list=n', '=address=10.1.2.3/32']));
      expect(attrs((await api.call(['/ip/firewall/address-list/print', `?.id=${l}`]))[0]).address).to.equal('10.1.2.3');
    });

    it('sets, disables, enables, unsets and removes by id', async () => {
      const id = retOf(await api.call(['/ppp/secret/add', '=name=life', '=remote-address=10.0.0.9']));
      await api.call(['/ppp/secret/set', `=.id=${id}`, '=password=new']);
      await api.call(['/ppp/secret/disable', `=.id=${id}`]);
      await api.call(['/ppp/secret/unset', `=.id=${id}`, '=value-name=remote-address']);
      expect(attrs((await api.call(['/ppp/secret/print', `?.id=${id}`]))[0]))
        .to.include({ password: 'new', disabled: 'true' })
        .and.not.have.property('remote-address');
      await api.call(['/ppp/secret/enable', `=.id=${id}`]);
      expect(attrs((await api.call(['/ppp/secret/print', `?.id=${id}`]))[0]).disabled).to.equal('false');
      await api.call(['/ppp/secret/remove', `=.id=${id}`]);
      expect(await api.call(['/ppp/secret/print', `?.id=${id}`])).to.deep.equal([['!empty'], ['!done']]);
    });

    it('kicks a session when its /ppp/active entry is removed', async () => {
      const id = router.sim.store.addPppSession('kickme');
      await api.call(['/ppp/active/remove', `=.id=${id}`]);
      expect(router.sim.store.list('/ppp/active').some((r) => r.name === 'kickme')).to.equal(false);
    });
  });

  describe('faults', () => {
    it('drops every connection while down, and serves again when up', async () => {
      router.sim.setDown(true);
      await api.waitFor(() => api.closed);
      const refused = await RawApi.open(router.ports.apiPort);
      await refused.waitFor(() => refused.closed);
      expect(refused.closed).to.equal(true);
      router.sim.setDown(false);
      const back = await RawApi.login(router.ports.apiPort, USER, PASSWORD);
      expect((await back.call(['/system/identity/print']))[0]).to.deep.equal(['!re', '=name=test-router']);
      back.close();
    });

    it('accepts and never answers while down in silent mode', async () => {
      router.sim.setDown(true, 'silent');
      const raw = await RawApi.open(router.ports.apiPort);
      raw.send(['/login', `=name=${USER}`, `=password=${PASSWORD}`]);
      await new Promise((r) => setTimeout(r, 150));
      expect(raw.received).to.deep.equal([]);
      raw.close();
    });

    it('resets open connections on resetConnections', async () => {
      router.sim.resetConnections();
      await api.waitFor(() => api.closed);
      expect(api.closed).to.equal(true);
    });

    it('counts connections, logins, commands and writes', async () => {
      router.sim.resetStats();
      const raw = await RawApi.login(router.ports.apiPort, USER, PASSWORD);
      await raw.call(['/ip/firewall/address-list/add', '=list=count', '=address=10.3.3.3']);
      await raw.call(['/ip/firewall/address-list/print']);
      expect(router.sim.stats).to.include({ apiConnections: 1, logins: 1, commands: 3, writes: 1 });
      raw.close();
    });
  });
});
