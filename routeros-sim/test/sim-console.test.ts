import { expect } from 'chai';
import { tokenize } from '../src/console/lexer.ts';
import { PASSWORD, startRouter, USER, type Router } from './helpers/fixtures.ts';
import { RawSsh } from './helpers/raw-ssh.ts';

const strings = (script: string) =>
  tokenize(script)
    .filter((t) => t.kind === 'string')
    .map((t) => t.value);

describe('RouterOS emulator console language', () => {
  it('unescapes \\" \\\\ \\$ \\? \\_ \\a \\b \\f \\n \\r \\t \\v and upper-case \\XX hex', () => {
    expect(strings(String.raw`"q\"b\\d\$q\?s\_e\a\b\f\n\r\t\v|\41\0A\E9\80"`)).to.deep.equal(['q"b\\d$q?s e\x07\x08\x0c\n\r\t\x0b|A\né€']);
  });

  it('keeps [ ], ; and { } inside a quoted string as text', () => {
    expect(strings('"[/system reboot]; {x}"')).to.deep.equal(['[/system reboot]; {x}']);
    expect(tokenize('"a;b"').map((t) => t.kind)).to.deep.equal(['string']);
  });

  it('reads $name inside a string as a variable, never defined, so it reads as nothing', () => {
    expect(strings('"cost $x here"')).to.deep.equal(['cost  here']);
    expect(strings(String.raw`"cost \$x here"`)).to.deep.equal(['cost $x here']);
  });

  it('refuses $[…] and $(…) inside a string rather than run them', () => {
    expect(() => tokenize('"$[/system reboot]"')).to.throw('syntax error (line 1 column 2)');
    expect(() => tokenize('"$(1+1)"')).to.throw('syntax error (line 1 column 2)');
  });

  it('reports an unterminated string and a bad escape with line and column', () => {
    expect(() => tokenize(':put "abc')).to.throw('syntax error (line 1 column 6)');
    expect(() => tokenize('\n:put "a\\qb"')).to.throw('syntax error (line 2 column 8)');
  });
});

describe('RouterOS emulator over SSH', () => {
  let router: Router;
  let ssh: RawSsh;
  before(async () => {
    router = await startRouter();
    ssh = await RawSsh.open(router.ports.sshPort as number, USER, PASSWORD);
  });
  after(async () => {
    ssh.close();
    await router.sim.stop();
  });

  it('adds with :put [… add …] returning the id, and prints terse with ids', async () => {
    const id = (await ssh.exec(':put [/ppp secret add name="t1" password="p w" comment="mtandao:1" service=pppoe]')).trim();
    expect(id).to.match(/^\*[0-9A-F]+$/);
    const terse = await ssh.exec('/ppp secret print terse show-ids where name="t1"');
    expect(terse).to.match(new RegExp(`^\\${id}\\s+comment=mtandao:1 name=t1 service=pppoe caller-id= password=p w profile=default `));
  });

  it('prints detail with the comment line and quoted text, booleans as yes/no', async () => {
    await ssh.exec('/ppp secret add name="t2" password="a\\"b" comment="note" disabled=yes');
    const detail = await ssh.exec('/ppp secret print detail where name=t2');
    expect(detail).to.contain(';;; note').and.contain('name="t2"').and.contain('password="a\\"b"');
    expect(detail).to.match(/^ 0 X /m);
  });

  it('prints as-value through :put and through :serialize to=json', async () => {
    await ssh.exec('/ip firewall address-list add list=json address=10.7.7.7 comment="c;d"');
    expect(await ssh.exec(':put [/ip firewall address-list print as-value proplist=list,address where list=json]')).to.match(
      /^\.id=\*[0-9A-F]+;list=json;address=10\.7\.7\.7\n$/,
    );
    const json = JSON.parse(await ssh.exec(':put [:serialize to=json value=[/ip firewall address-list print as-value where list="json"]]'));
    expect(json).to.have.length(1);
    expect(json[0]).to.include({ list: 'json', address: '10.7.7.7', disabled: false, comment: 'c;d' });
  });

  it('sets through [find where …], by id and by print number; removes; enables and disables', async () => {
    await ssh.exec('/ppp secret add name=t3');
    expect(await ssh.exec('/ppp secret set [find where name="t3"] password="one"')).to.equal('');
    const id = (await ssh.exec(':put [/ppp secret find name=t3]')).trim();
    await ssh.exec(`/ppp secret set ${id} remote-address=10.0.0.3; /ppp secret disable ${id}`);
    expect(router.sim.store.get('/ppp/secret', id)).to.include({ password: 'one', 'remote-address': '10.0.0.3', disabled: 'true' });
    const number = router.sim.store.list('/ppp/secret').findIndex((r) => r['.id'] === id);
    await ssh.exec(`/ppp secret enable ${number}`);
    expect(router.sim.store.get('/ppp/secret', id)?.disabled).to.equal('false');
    await ssh.exec(`/ppp secret remove [find where name=t3]`);
    expect(router.sim.store.get('/ppp/secret', id)).to.equal(undefined);
  });

  it("answers with RouterOS's error texts and stops the script at the first error", async () => {
    await ssh.exec('/ppp secret add name=dup');
    expect(await ssh.exec('/ppp secret add name=dup')).to.equal('failure: secret with the same name already exists\n');
    expect(await ssh.exec('/ppp secret remove *FFFF')).to.equal('no such item\n');
    expect(await ssh.exec('/ppp secret add name=x profile=nope')).to.equal('input does not match any value of profile\n');
    expect(await ssh.exec('/ppp secret add name="x" bogus=1')).to.equal('expected end of command (line 1 column 26)\n');
    expect(await ssh.exec('/ppp secrets print')).to.equal('bad command name secrets (line 1 column 6)\n');
    expect(await ssh.exec(':put "abc')).to.equal('syntax error (line 1 column 6)\n');
    expect(await ssh.exec('/ppp secret add name=dup; :put after')).to.equal('failure: secret with the same name already exists\n');
  });

  it('parses the whole script before running any of it', async () => {
    expect(await ssh.exec('/ppp secret add name=early; /ppp secret bogus')).to.match(/^bad command name bogus/);
    expect(router.sim.store.list('/ppp/secret').some((r) => r.name === 'early')).to.equal(false);
  });

  it('lands quotes, ;, $, [, ], \\ and a newline verbatim when they are escaped, and runs none of them', async () => {
    const nasty = 'a"b;c$d[/system reboot]e\\f\ng?';
    const escaped = String.raw`a\"b;c\$d[/system reboot]e\\f\0Ag\?`;
    const id = (await ssh.exec(`:put [/ppp secret add name="nasty" comment="${escaped}"]`)).trim();
    expect(router.sim.store.get('/ppp/secret', id)?.comment).to.equal(nasty);
    expect(router.sim.store.list('/system/identity')[0]?.name).to.equal('test-router');
  });

  it('stores an unescaped $x in a string as RouterOS would: an empty variable', async () => {
    const id = (await ssh.exec(':put [/ppp secret add name="vars" comment="a$x;b"]')).trim();
    expect(router.sim.store.get('/ppp/secret', id)?.comment).to.equal('a;b');
  });

  it('reads /system resource and identity with get and print', async () => {
    expect(await ssh.exec(':put [/system resource get version]; :put [/system identity get name]')).to.equal('7.18.2 (stable)\ntest-router\n');
    expect(await ssh.exec('/system identity print')).to.equal('  name: test-router\n');
  });

  it('counts with print count-only, at the prompt and as a value in [ ], on RouterOS 7 and 6', async () => {
    const old = await startRouter({ version: '6.49.17' });
    const s = await RawSsh.open(old.ports.sshPort as number, USER, PASSWORD);
    try {
      for (const [sim, shell] of [
        [router.sim, ssh],
        [old.sim, s],
      ] as const) {
        const n = sim.store.list('/queue/simple').length;
        expect(await shell.exec('/queue simple print count-only')).to.equal(`${n}\n`);
        sim.store.add('/queue/simple', { name: 'count.q1', target: '10.9.9.1/32' });
        sim.store.add('/queue/simple', { name: 'count.q2', target: '10.9.9.2/32', disabled: 'true' });
        expect(await shell.exec(':put [/queue simple print count-only]; :put [/ip hotspot user print count-only where name="nobody"]')).to.equal(
          `${n + 2}\n0\n`,
        );
      }
    } finally {
      s.close();
      await old.sim.stop();
    }
  });

  it('has no :serialize before RouterOS 7.13', async () => {
    const old = await startRouter({ version: '6.49.17' });
    const s = await RawSsh.open(old.ports.sshPort as number, USER, PASSWORD);
    expect(await s.exec(':put [:serialize to=json value=[/ppp secret print as-value]]')).to.equal('bad command name serialize (line 1 column 7)\n');
    s.close();
    await old.sim.stop();
  });

  it('runs an interactive shell: prompt, menu change, print, /quit', async () => {
    const sh = await ssh.shell();
    const waitFor = async (text: string) => {
      const until = Date.now() + 3000;
      while (!sh.output().includes(text)) {
        if (Date.now() > until) throw new Error(`no ${JSON.stringify(text)} in ${JSON.stringify(sh.output())}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await waitFor('[admin@test-router] > ');
    sh.type('/ip firewall address-list\r');
    await waitFor('[admin@test-router] /ip/firewall/address-list> ');
    sh.type('add list=shell address=10.8.8.8\r');
    sh.type(':put [find where list=shell]\r');
    await waitFor('*');
    sh.type('/quit\r');
    const until = Date.now() + 3000;
    while (!sh.closed() && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(sh.closed()).to.equal(true);
    expect(router.sim.store.list('/ip/firewall/address-list').some((r) => r.list === 'shell')).to.equal(true);
  });

  it('refuses a wrong SSH password', async () => {
    let error: unknown;
    try {
      await RawSsh.open(router.ports.sshPort as number, USER, 'wrong');
    } catch (e) {
      error = e;
    }
    expect(String(error)).to.match(/authentication/i);
  });
});
