import { expect } from 'chai';
import { dirname } from 'node:path';
import { COMMAND_BATCH_CAPABILITY, type AckMessage, type HelloMessage } from '@mtandao/protocol';
import { generateSigningKeys, loadPrivateKey } from '@mtandao/protocol/signing';
import type { AgentHandle } from '../src/agent.ts';
import { applyCustomer, connectedAgent, enrolledStateDir, recordingExecutor, removeDir } from './helpers/agent-fixtures.ts';
import { FakeController } from './helpers/fake-controller.ts';

/** Every ack the controller got (alone or in `acks` messages), in order. */
function acks(controller: FakeController): AckMessage[] {
  return controller.messages.flatMap(({ msg }) => (msg.type === 'acks' ? msg.acks : msg.type === 'ack' ? [msg] : []));
}

describe('agent intake: a batch of commands under one signature (capability 4)', () => {
  let controller: FakeController;
  let stateDir: string;
  let agentId: string;
  let agent: AgentHandle | undefined;
  let executor: ReturnType<typeof recordingExecutor>;

  beforeEach(async () => {
    controller = await FakeController.start({ capability: 3 });
    ({ stateDir, agentId } = await enrolledStateDir(controller));
    executor = recordingExecutor();
    agent = await connectedAgent(stateDir, { executor });
  });
  afterEach(async () => {
    await agent?.stop();
    await controller.close();
    await removeDir(dirname(stateDir));
  });

  const ackOf = (id: string, status: AckMessage['status'] = 'applied') =>
    controller.until(() => acks(controller).find((a) => a.commandId === id && a.status === status));

  it('says in hello that it takes batches', async () => {
    const hello = await controller.waitFor((m): m is HelloMessage => m.type === 'hello');
    expect(hello.capability).to.be.at.least(COMMAND_BATCH_CAPABILITY);
  });

  it('applies every command of a signed batch in order, each acked and journaled on its own', async () => {
    const { text, ids } = controller.sealBatch(
      agentId,
      ['a', 'b', 'c'].map((c) => ({ type: 'customer.apply' as const, payload: applyCustomer(c) })),
    );
    controller.send(text);
    for (const id of ids) await ackOf(id);
    expect(executor.calls.map((e) => e.id)).to.deep.equal(ids);
    expect(executor.calls.map((e) => e.seq)).to.deep.equal([1, 2, 3]);
    expect(agent!.lastSeq).to.equal(3);
    expect(controller.messages.every((m) => m.verified)).to.equal(true);
  });

  it('applies nothing of a batch whose signature does not verify, and refuses each of its commands', async () => {
    const forger = loadPrivateKey(generateSigningKeys().privateKey);
    const { text, ids } = controller.sealBatch(
      agentId,
      ['a', 'b'].map((c) => ({ type: 'customer.apply' as const, payload: applyCustomer(c) })),
      forger,
    );
    controller.send(text);
    for (const id of ids) expect((await ackOf(id, 'rejected')).error?.code).to.equal('bad-signature');
    // a tampered payload under the controller's own signature fares no better
    const real = controller.sealBatch(agentId, [{ type: 'customer.apply', payload: applyCustomer('c') }]);
    controller.send(real.text.replace('"customerId":"c"', '"customerId":"x"'));
    expect((await ackOf(real.ids[0]!, 'rejected')).error?.code).to.equal('bad-signature');
    expect(executor.calls).to.deep.equal([]);
    expect(agent!.lastSeq).to.equal(0);
  });

  it('answers a redelivered batch duplicate without applying it again, and judges each new command on its own', async () => {
    const first = controller.sealBatch(agentId, [{ type: 'customer.apply', payload: applyCustomer('a') }]);
    controller.send(first.text);
    await ackOf(first.ids[0]!);
    controller.send(first.text);
    await ackOf(first.ids[0]!, 'duplicate');
    // one envelope at an old seq, one new: the old is refused alone, the new applied
    const mixed = controller.sealBatch(agentId, [
      { type: 'customer.apply', payload: applyCustomer('b'), seq: 1 },
      { type: 'customer.apply', payload: applyCustomer('c') },
    ]);
    controller.send(mixed.text);
    expect((await ackOf(mixed.ids[0]!, 'rejected')).error?.code).to.equal('replayed-seq');
    await ackOf(mixed.ids[1]!);
    expect(executor.calls.map((e) => e.id)).to.deep.equal([first.ids[0], mixed.ids[1]]);
  });

  it('refuses a command of the batch addressed to another agent, and applies the rest', async () => {
    // signed by the controller, the first envelope for someone else
    const { text, ids } = controller.sealBatch(agentId, [
      { type: 'customer.apply', payload: applyCustomer('a'), forAgent: 'agt_other' },
      { type: 'customer.apply', payload: applyCustomer('b') },
    ]);
    controller.send(text);
    expect((await ackOf(ids[0]!, 'rejected')).error?.code).to.equal('wrong-agent');
    await ackOf(ids[1]!);
    expect(executor.calls.map((e) => e.id)).to.deep.equal([ids[1]]);
  });
});
