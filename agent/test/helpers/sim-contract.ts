/**
 * What every RouterClient must do, whatever its transport: the tests the API and SSH drivers share,
 * run against an emulator each suite provides.
 */
import type { RouterTransport } from '@mtandao/protocol';
import { expect } from 'chai';
import { openRouter } from '../../src/drivers/index.ts';
import { RouterError, type RouterClient } from '../../src/drivers/types.ts';
import type { Router } from './sim-fixtures.ts';

/** The rejection of a promise that must reject with a RouterError. */
export async function rejection(p: Promise<unknown>): Promise<RouterError> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(RouterError);
    return e as RouterError;
  }
  throw new Error('expected a rejection');
}

/** Declares the shared driver tests; `router()` is the suite's emulator, reset between tests. */
export function behavesAsRouterClient(transport: RouterTransport, router: () => Router): void {
  let client: RouterClient;
  beforeEach(() => {
    client = openRouter(router().config(transport));
  });
  afterEach(() => client.close());

  it('adds, prints with where and proplist, sets and removes', async () => {
    const id = await client.add('/ppp/secret', { name: 'd1', password: 'x', comment: 'mtandao:d1' });
    await client.set('/ppp/secret', id, { password: 'y', disabled: 'yes' });
    expect(await client.print('/ppp/secret', { where: { comment: 'mtandao:d1' }, proplist: ['name', 'password', 'disabled'] })).to.deep.equal([
      { '.id': id, name: 'd1', password: 'y', disabled: 'true' },
    ]);
    await client.remove('/ppp/secret', id);
    expect(await client.print('/ppp/secret', { where: { name: 'd1' } })).to.deep.equal([]);
  });

  it('reports health: version, identity and uptime, which starts again from 0 when the router restarts', async () => {
    const h = await client.health();
    expect(h).to.include({ version: '7.18.2 (stable)', identity: 'test-router' });
    expect(h.uptimeSeconds).to.be.a('number').and.be.at.least(0);
    router().sim.reboot({ empty: true });
    let after: Awaited<ReturnType<typeof client.health>> | undefined;
    for (let i = 0; i < 20 && !after; i++) after = await client.health().catch(() => undefined); // the first try may meet the dropped connection
    expect(after).to.include({ identity: 'MikroTik' });
    expect(after?.uptimeSeconds).to.equal(0);
    expect(router().sim.store.list('/ppp/secret')).to.deep.equal([]);
    router().sim.store.identity = 'test-router'; // the suite's emulator serves the next tests
  });

  it('counts the entries of each menu with count-only, disabled and unmarked ones included, and leaves out a menu the router lacks', async () => {
    const sim = router().sim;
    await client.add('/ppp/secret', { name: 'count1', comment: 'mtandao:c1' });
    sim.store.add('/ppp/secret', { name: 'count2', disabled: 'true' });
    sim.store.add('/queue/simple', { name: 'count3', target: '10.1.1.1/32' });
    const size = (menu: string) => sim.store.list(menu).length;
    const menus = ['/ppp/secret', '/ip/hotspot/user', '/queue/simple', '/ip/firewall/address-list'];
    const counts = await client.countEntries!(menus);
    expect(counts).to.deep.equal(Object.fromEntries(menus.map((m) => [m, size(m)])));
    expect(counts['/ppp/secret']).to.be.at.least(2);
    expect(await client.countEntries!(['/ppp/secret', '/no/such'])).to.deep.equal({ '/ppp/secret': size('/ppp/secret') });
  });

  it("turns the router's refusals into non-retryable traps with its own words", async () => {
    await client.add('/ppp/secret', { name: 'dup' });
    expect(await rejection(client.add('/ppp/secret', { name: 'dup' }))).to.include({
      category: 'trap',
      routerMessage: 'failure: secret with the same name already exists',
      retryable: false,
    });
    expect(await rejection(client.remove('/ppp/secret', '*FFFF'))).to.include({ category: 'trap', routerMessage: 'no such item' });
    expect(await rejection(client.add('/ppp/secret', { name: 'np', profile: 'nope' }))).to.include({
      category: 'trap',
      routerMessage: 'input does not match any value of profile',
    });
  });

  it('reports a refused login as a non-retryable login error', async () => {
    router().sim.refuseLogins(true);
    expect(await rejection(client.print('/ppp/secret'))).to.include({ category: 'login', retryable: false });
  });

  it('reports a router that is down as unreachable and retryable', async () => {
    router().sim.setDown(true);
    expect(await rejection(client.print('/ppp/secret'))).to.include({ category: 'unreachable', retryable: true });
  });

  it('refuses text with no Windows-1252 form before anything reaches the router', async () => {
    const writes = router().sim.stats.writes;
    expect(await rejection(client.add('/ppp/secret', { name: 'u', password: 'пароль' }))).to.include({ category: 'invalid', retryable: false });
    expect(router().sim.stats.writes).to.equal(writes);
  });

  it('keeps one connection for many commands, and opens a new one after a reset', async () => {
    const connections = () => router().sim.stats.apiConnections + router().sim.stats.sshConnections;
    const before = connections();
    await Promise.all(Array.from({ length: 20 }, () => client.print('/system/identity')));
    expect(connections() - before).to.equal(1);
    router().sim.resetConnections();
    await new Promise((r) => setTimeout(r, 30));
    expect(await client.print('/system/identity')).to.deep.equal([{ name: 'test-router' }]);
    expect(connections() - before).to.equal(2);
  });

  it('refuses a menu, property name or id that could change the command', async () => {
    expect(await rejection(client.print('/ppp/secret; /system reboot'))).to.include({ category: 'invalid' });
    expect(await rejection(client.add('/ppp/secret', { 'name=x': 'y' }))).to.include({ category: 'invalid' });
    expect(await rejection(client.set('/ppp/secret', '*1 password=x', {}))).to.include({ category: 'invalid' });
  });
}
