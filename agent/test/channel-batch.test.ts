import { expect } from 'chai';
import { dirname } from 'node:path';
import type { AckMessage, CustomerSpec } from '@mtandao/protocol';
import { RouterOsSim } from '@mtandao/routeros-sim';
import { generateSigningKeys, loadPrivateKey } from '@mtandao/protocol/signing';
import { startAgent } from '../src/agent.ts';
import { ControllerChannel } from '../src/channel/connection.ts';
import { createLogger } from '../src/logger.ts';
import { agentConfig, enrolledStateDir, FAST, plan, removeDir } from './helpers/agent-fixtures.ts';
import { FakeController } from './helpers/fake-controller.ts';

const logger = createLogger({ level: 'silent' });

/** Acks received in `acks` batches or alone, by command id, and how many messages carried them. */
function acksOf(controller: FakeController, ids: Set<string>): { acks: Map<string, AckMessage>; messages: number } {
  const acks = new Map<string, AckMessage>();
  let messages = 0;
  for (const { msg, verified } of controller.messages) {
    const carried = msg.type === 'acks' ? msg.acks : msg.type === 'ack' ? [msg] : [];
    const mine = carried.filter((a) => ids.has(a.commandId));
    if (mine.length === 0) continue;
    expect(verified, 'every ack message signed').to.equal(true);
    messages++;
    for (const a of mine) acks.set(a.commandId, a);
  }
  return { acks, messages };
}

describe('agent channel: commands that arrive together', () => {
  it('go to the router as one pipelined round and come back in one signed ack message', async () => {
    const sim = new RouterOsSim({ password: 'sim-pw', sshPort: null, latencyMs: 20 });
    const { apiPort } = await sim.start();
    const controller = await FakeController.start({ capability: 3 });
    const { stateDir, agentId } = await enrolledStateDir(controller);
    const router = { name: 'core-1', host: '127.0.0.1', port: apiPort, transport: 'api' as const, username: 'admin', password: 'sim-pw', timeoutMs: 5000 };
    const agent = await startAgent({ stateDir, config: agentConfig([router]), logger, timing: FAST });
    try {
      await agent.whenConnected();
      expect((await controller.deliver(controller.seal(agentId, 'plan.apply', { router: 'core-1', plan }))).status).to.equal('applied');
      const count = 100;
      const customer = (i: number): CustomerSpec => ({
        customerId: `b${i}`,
        connectionType: 'pppoe',
        username: `batch-${i}`,
        password: 'pw-1234',
        status: 'active',
        ipAddress: `10.64.1.${i + 1}`,
        plan,
      });
      const frames = Array.from({ length: count }, (_, i) =>
        controller.seal(agentId, 'customer.apply', { router: 'core-1', fresh: true, customer: customer(i) }),
      );
      const ids = new Set(frames.map((f) => f.envelope.id as string));
      // the router 20 ms away: a command sent while others are in flight joins their round
      const before = { ...sim.stats };
      // one WebSocket message each, written in one go as the controller writes a claimed round: they
      // reach the agent in the same read or a few
      controller.sendAll(frames);
      const { acks, messages } = await controller.until(() => {
        const got = acksOf(controller, ids);
        return got.acks.size === count && got;
      }, 15_000);
      expect([...acks.values()].every((a) => a.status === 'applied')).to.equal(true);
      expect(sim.store.list('/ppp/secret').filter((r) => r.name?.startsWith('batch-'))).to.have.length(count);
      const rounds = sim.stats.rounds - before.rounds;
      const commands = sim.stats.commands - before.commands;
      expect(commands, 'API commands').to.be.at.least(count);
      // one round per batch the agent was handed: the frames may come in a few reads, never one round per command
      expect(rounds, `router rounds for ${count} customers (${commands} API commands)`).to.be.at.most(4);
      // (the first frame or two may start alone, a read ahead of the rest)
      expect(sim.stats.maxInFlightPerConnection, 'commands on the wire at once').to.be.at.least(count - 10);
      expect(messages, `ack messages for ${count} acks`).to.be.at.most(4);
    } finally {
      await agent.stop();
      await controller.close();
      await sim.stop();
      await removeDir(dirname(stateDir));
    }
  });

  it('hold acks once for the outcomes being written, so back-to-back journal writes answer in one message', async () => {
    const controller = await FakeController.start({ capability: 3 });
    const keys = generateSigningKeys();
    controller.registerAgent('agt_linger', keys.publicKey);
    let landed!: () => void;
    let writing: Promise<void> | undefined = new Promise<void>((resolve) => (landed = resolve));
    const channel = new ControllerChannel({
      url: `ws://127.0.0.1:${controller.port}/agent`,
      agentId: 'agt_linger',
      privateKey: loadPrivateKey(keys.privateKey),
      logger,
      hello: () => ({ type: 'hello', agentId: 'agt_linger', agentVersion: '0.0.0', capability: 4, lastSeq: 0, routers: [], sentAt: new Date().toISOString() }),
      onFrame: () => undefined,
      acksPending: () => writing,
    });
    const ack = (n: number): AckMessage => ({
      type: 'ack',
      agentId: 'agt_linger',
      commandId: `c${n}`,
      seq: n,
      status: 'applied',
      result: { changes: [] },
      durationMs: 1,
      at: new Date().toISOString(),
    });
    const ackMessages = () => controller.messages.filter((m) => m.msg.type === 'ack' || m.msg.type === 'acks');
    try {
      channel.start();
      await channel.whenConnected();
      await controller.until(() => controller.messages.some((m) => m.msg.type === 'hello'));
      channel.send(ack(1));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(ackMessages(), 'held while more outcomes are being written').to.deep.equal([]);
      // the write lands: its ack is queued by the write's continuations, then both leave together
      writing = undefined;
      landed();
      channel.send(ack(2));
      await controller.until(() => ackMessages().length > 0);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(ackMessages().map((m) => (m.msg.type === 'acks' ? m.msg.acks.map((a) => a.commandId) : [(m.msg as AckMessage).commandId]))).to.deep.equal([
        ['c1', 'c2'],
      ]);
      // with no write of outcomes in flight, an ack leaves at once
      channel.send(ack(3));
      await controller.until(() => ackMessages().length === 2, 1000);
    } finally {
      await channel.stop();
      await controller.close();
    }
  });
});
