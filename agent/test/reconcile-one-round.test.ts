import { expect } from 'chai';
import type { CustomerSpec } from '@mtandao/protocol';
import { openRouter } from '../src/drivers/index.ts';
import type { RouterClient, RouterError } from '../src/drivers/types.ts';
import { applyCustomer, applyPlan, reconcileRouter } from '../src/reconcile/index.ts';
import { eventually, startRouter, type Router } from './helpers/sim-fixtures.ts';
import { customer, pppoePlan, staticPlan } from './helpers/sim-desired.ts';

const RTT = 25;
const marked = (router: Router, menu: string, id: string) => router.sim.store.list(menu).filter((r) => r.comment === `mtandao:${id}`);

/** Runs `op` and tells how many API round trips and commands it cost on the emulator. */
async function cost<T>(router: Router, op: () => Promise<T>): Promise<{ result: T; rounds: number; commands: number }> {
  const before = router.sim.stats;
  const result = await op();
  const after = router.sim.stats;
  return { result, rounds: after.rounds - before.rounds, commands: after.commands - before.commands };
}

describe('a write by item id is refused on another router session than the id was read on', () => {
  for (const transport of ['api', 'ssh'] as const) {
    it(`over ${transport}`, async () => {
      const router = await startRouter(transport === 'api' ? { sshPort: null } : {});
      const client = openRouter(router.config(transport));
      try {
        const id = await client.add('/ppp/secret', { name: 'guarded', password: 'one' });
        const serial = client.sessionSerial!()!;
        await client.set('/ppp/secret', id, { password: 'two' }, { session: serial });
        expect(router.sim.store.list('/ppp/secret').find((r) => r.name === 'guarded')).to.include({ password: 'two' });
        const error = await client.set('/ppp/secret', id, { password: 'three' }, { session: serial - 1 }).then(
          () => undefined,
          (e: RouterError) => e,
        );
        expect(error).to.include({ category: 'unreachable', retryable: true });
        expect(router.sim.store.list('/ppp/secret').find((r) => r.name === 'guarded')).to.include({ password: 'two' });
      } finally {
        await client.close();
        await router.sim.stop();
      }
    });
  }
});

describe('the hot path: one round trip to the router (issue 13)', () => {
  let router: Router;
  let client: RouterClient;
  beforeEach(async () => {
    router = await startRouter({ sshPort: null });
    client = openRouter(router.config('api'));
    await applyPlan(client, pppoePlan());
    await applyPlan(client, staticPlan());
    // replies wait RTT ms: commands sent together share one round trip, one sent after a reply starts another
    router.sim.setLatency(RTT);
  });
  afterEach(async () => {
    await client.close();
    await router.sim.stop();
  });

  it('adds a new PPPoE customer in one round trip and one command', async () => {
    const c = customer('1', pppoePlan(), { ipAddress: '10.64.0.5' });
    const { result, rounds, commands } = await cost(router, () => applyCustomer(client, c, { fresh: true }));
    expect({ rounds, commands }).to.deep.equal({ rounds: 1, commands: 1 });
    expect(result.changes).to.deep.equal(['add /ppp/secret user-1']);
    expect(marked(router, '/ppp/secret', '1'))
      .to.have.length(1)
      .and.to.have.nested.property('[0].password', 'pw-1');
  });

  it('adds a new Static customer (queue and address list) in one round trip', async () => {
    const c = customer('2', staticPlan(), { ipAddress: '10.65.0.2' });
    const { rounds, commands } = await cost(router, () => applyCustomer(client, c, { fresh: true }));
    expect({ rounds, commands }).to.deep.equal({ rounds: 1, commands: 2 });
    expect(marked(router, '/queue/simple', '2')).to.have.length(1);
    expect(marked(router, '/ip/firewall/address-list', '2')).to.have.nested.property('[0].list', 'mtandao-active');
  });

  it('updates a known customer in one round trip: the write from the last known state and its read-back', async () => {
    const c = customer('3', pppoePlan());
    await applyCustomer(client, c, { fresh: true });
    const { result, rounds, commands } = await cost(router, () => applyCustomer(client, { ...c, password: 'changed' }));
    // the write, its read-back and the look for a session to drop (the password changed)
    expect({ rounds, commands }).to.deep.equal({ rounds: 1, commands: 3 });
    expect(result.changes).to.deep.equal(['set /ppp/secret user-3: password']);
    expect(marked(router, '/ppp/secret', '3')[0]).to.include({ password: 'changed' });
    // nothing to change: one round, the read-back alone
    const again = await cost(router, () => applyCustomer(client, { ...c, password: 'changed' }));
    expect({ rounds: again.rounds, commands: again.commands, changes: again.result.changes }).to.deep.equal({ rounds: 1, commands: 1, changes: [] });
  });

  it('falls back to read, marker check and diff when the router says a fresh entry exists (a retry after a lost ack)', async () => {
    const c = customer('4', pppoePlan());
    router.sim.store.add('/ppp/secret', { name: 'user-4', password: 'old', service: 'pppoe', profile: 'Home 10M', comment: 'mtandao:4' });
    const { result, rounds } = await cost(router, () => applyCustomer(client, c, { fresh: true }));
    expect(rounds).to.be.greaterThan(1);
    expect(result.changes.some((l) => l.startsWith('set /ppp/secret user-4'))).to.equal(true);
    expect(marked(router, '/ppp/secret', '4'))
      .to.have.length(1)
      .and.to.have.nested.property('[0].password', 'pw-4');
    // and it is known now: the next change is one round again
    router.sim.store.addPppSession('user-4');
    const next = await cost(router, () => applyCustomer(client, { ...c, status: 'suspended' }));
    expect(next.rounds).to.equal(2); // write, read-back and session look-up; then the session's removal
    expect(marked(router, '/ppp/secret', '4')[0]).to.include({ disabled: 'true' });
    expect(router.sim.store.list('/ppp/active')).to.deep.equal([]);
  });

  it('a fresh add refused for an unmarked namesake takes back what its round added and touches nothing else', async () => {
    router.sim.store.add('/queue/simple', { name: 'shop', target: '10.65.0.99/32', 'max-limit': '1M/1M' });
    const c = customer('5', staticPlan(), { username: 'shop', ipAddress: '10.65.0.5' });
    let error: Error | undefined;
    await applyCustomer(client, c, { fresh: true }).catch((e: Error) => (error = e));
    expect(error?.message).to.equal('/queue/simple shop exists on the router but is not managed by Mtandao');
    expect(marked(router, '/ip/firewall/address-list', '5')).to.deep.equal([]);
    expect(router.sim.store.list('/queue/simple').find((q) => q.name === 'shop'))
      .to.include({ target: '10.65.0.99/32' })
      .and.not.have.property('comment');
  });

  it('a known entry changed or removed behind the agent is found on the read-back and put right', async () => {
    const c = customer('6', pppoePlan());
    await applyCustomer(client, c, { fresh: true });
    router.sim.store.remove(
      '/ppp/secret',
      marked(router, '/ppp/secret', '6').map((r) => r['.id']!),
    );
    await applyCustomer(client, { ...c, password: 'again' });
    expect(marked(router, '/ppp/secret', '6'))
      .to.have.length(1)
      .and.to.have.nested.property('[0].password', 'again');
    router.sim.store.set('/ppp/secret', [marked(router, '/ppp/secret', '6')[0]!['.id']!], { password: 'drifted' });
    await applyCustomer(client, { ...c, password: 'again' });
    expect(marked(router, '/ppp/secret', '6')[0]).to.include({ password: 'again' });
  });

  it('trusts no item id across router sessions (a reboot may hand them out again)', async () => {
    const c = customer('7', pppoePlan());
    await applyCustomer(client, c, { fresh: true });
    router.sim.reboot({ empty: true });
    await eventually(() => client.sessionSerial?.() === undefined);
    await applyPlan(client, pppoePlan());
    router.sim.store.add('/ppp/secret', { name: 'someone', password: 'theirs' });
    const { rounds } = await cost(router, () => applyCustomer(client, { ...c, password: 'after-reboot' }));
    expect(rounds).to.be.greaterThan(1); // the slow way: it read first
    expect(router.sim.store.list('/ppp/secret').find((r) => r.name === 'someone')).to.include({ password: 'theirs' });
    expect(marked(router, '/ppp/secret', '7'))
      .to.have.length(1)
      .and.to.have.nested.property('[0].password', 'after-reboot');
  });

  it('changing connection type goes the slow way and removes the old entries', async () => {
    const c = customer('8', pppoePlan());
    await applyCustomer(client, c, { fresh: true });
    const st: CustomerSpec = customer('8', staticPlan(), { ipAddress: '10.65.0.8' });
    await applyCustomer(client, st);
    expect(marked(router, '/ppp/secret', '8')).to.deep.equal([]);
    expect(marked(router, '/queue/simple', '8')).to.have.length(1);
  });

  it('after a reconcile the agent forgets what it knew and reads again', async () => {
    const c = customer('9', pppoePlan());
    await applyCustomer(client, c, { fresh: true });
    await reconcileRouter(client, { plans: [pppoePlan(), staticPlan()], customers: [] }); // prunes customer 9
    await applyCustomer(client, c);
    expect(marked(router, '/ppp/secret', '9')).to.have.length(1);
  });
});
