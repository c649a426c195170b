import { expect } from 'chai';
import { expectStatus } from '../helpers/client.ts';
import { allApplied, eventually, startStack, type Stack } from '../helpers/stack.ts';

type Body = Record<string, unknown>;
type Job = { id: string; status: string; result: { changes: string[] } | null; events: { kind: string; commandId: string | null; message: string }[] };

/** Replies wait this long: commands sent together share one round trip, one sent after a reply starts another. */
const RTT = 20;

describe('the hot path end to end (issue 13)', function () {
  this.timeout(60_000);
  let stack: Stack;
  const job = async (id: unknown) => expectStatus(await stack.api.get(`/provisioning/jobs/${id}`), 200) as Job;
  const ip = (() => {
    let n = 10;
    return () => `10.64.2.${n++}`;
  })();

  before(async () => {
    // no reconcile on connect and no health probes while measuring: only the customers' own commands reach the router
    stack = await startStack({ env: { MTANDAO_RECONCILE_ON_CONNECT: '0' } });
    await stack.startAgentInProcess({ healthIntervalMs: 600_000 });
    await allApplied(stack.api); // the plans' profiles
  });
  after(async () => stack.stop());
  afterEach(() => stack.sim.setLatency(0));

  it('lands a new customer with one API command in one round trip to the router', async () => {
    stack.sim.setLatency(RTT);
    await new Promise((r) => setTimeout(r, 2 * RTT)); // anything still in flight drains
    const before = stack.sim.stats;
    const c = expectStatus(
      await stack.api.post('/customers', stack.fx.customerBody(stack.world.pppoe.id as string, { ipAddress: ip(), username: 'one.round' })),
      201,
    ) as Body;
    const [applied] = await allApplied(stack.api, `&customerId=${c.id}`);
    const after = stack.sim.stats;
    expect({ commands: after.commands - before.commands, rounds: after.rounds - before.rounds, writes: after.writes - before.writes }).to.deep.equal({
      commands: 1,
      rounds: 1,
      writes: 1,
    });
    const j = await job(applied!.id);
    expect(j.result?.changes).to.deep.equal(['add /ppp/secret one.round']);
    expect(j.events.map((e) => e.kind)).to.deep.equal(['created', 'sent', 'applied']);
  });

  it('an update of a customer the agent knows is one round trip too (the write and its read-back)', async () => {
    const c = expectStatus(
      await stack.api.post('/customers', stack.fx.customerBody(stack.world.pppoe.id as string, { ipAddress: ip(), username: 'known.one' })),
      201,
    ) as Body;
    await allApplied(stack.api, `&customerId=${c.id}`);
    stack.sim.setLatency(RTT);
    await new Promise((r) => setTimeout(r, 2 * RTT));
    const before = stack.sim.stats;
    expectStatus(await stack.api.patch(`/customers/${c.id}`, { ipAddress: ip() }), 200);
    await eventually(async () => ((await allApplied(stack.api, `&customerId=${c.id}`)).length === 2 ? true : undefined), 'the update applied');
    const after = stack.sim.stats;
    // set, print by marker, print of the user's sessions (the address changed): one round
    expect({ rounds: after.rounds - before.rounds, writes: after.writes - before.writes }).to.deep.equal({ rounds: 1, writes: 1 });
  });

  it('sends jobs due together as one pipelined round; each keeps its own command, ack and event log', async () => {
    await stack.agent!.stop();
    const names = Array.from({ length: 20 }, (_, i) => `batch.${i}`);
    const created: Body[] = [];
    for (const username of names)
      created.push(
        expectStatus(await stack.api.post('/customers', stack.fx.customerBody(stack.world.pppoe.id as string, { ipAddress: ip(), username })), 201) as Body,
      );
    stack.sim.setLatency(RTT);
    const before = stack.sim.stats;
    // what reaches the dispatcher: acks finishing together come as one signed `acks` message
    const d = stack.controller.dispatcher;
    const onMessage = d.onMessage.bind(d);
    const acks: number[] = [];
    d.onMessage = async (session, msg) => {
      if (msg.type === 'acks') acks.push(msg.acks.length);
      if (msg.type === 'ack') acks.push(1);
      return onMessage(session, msg);
    };
    await stack.startAgentInProcess({ healthIntervalMs: 600_000 });
    const jobs = await Promise.all(created.map(async (c) => job((await allApplied(stack.api, `&customerId=${c.id}`))[0]!.id)));
    d.onMessage = onMessage;
    const after = stack.sim.stats;
    expect(acks.reduce((a, b) => a + b, 0)).to.equal(20);
    expect(acks.length, `acks arrived in messages of ${acks.join(', ')}`).to.be.below(10);
    expect(after.writes - before.writes).to.equal(20);
    // one by one they would be 20 round trips; the agent's connect-time health probe and the
    // journal's write batching may split them into a few (more on a busy machine), never one each
    expect(after.rounds - before.rounds).to.be.below(10);
    const commandIds = new Set<string>();
    for (const [i, j] of jobs.entries()) {
      expect(j.events.map((e) => e.kind)).to.deep.equal(['created', 'sent', 'applied']);
      const sent = j.events.find((e) => e.kind === 'sent')!;
      const applied = j.events.find((e) => e.kind === 'applied')!;
      expect(applied.commandId).to.equal(sent.commandId);
      commandIds.add(sent.commandId!);
      expect(j.result?.changes).to.deep.equal([`add /ppp/secret ${names[i]}`]);
      expect(applied.message).to.contain(`add /ppp/secret ${names[i]}`);
    }
    expect(commandIds.size).to.equal(20);
  });
});
