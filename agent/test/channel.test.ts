import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  AGENT_AUTH_HEADERS,
  AGENT_MAX_PAYLOAD,
  CAPABILITY_VERSION,
  ENTRY_COUNTS_CAPABILITY,
  agentAuthChallenge,
  type AckMessage,
  type AgentMessage,
  type HealthMessage,
  type HelloMessage,
} from '@mtandao/protocol';
import { generateSigningKeys, loadPrivateKey, loadPublicKey, signEnvelope, verifyText } from '@mtandao/protocol/signing';
import type { AgentHandle } from '../src/agent.ts';
import { backoffDelay, jittered } from '../src/channel/backoff.ts';
import { RouterError } from '../src/drivers/types.ts';
import { readIdentity } from '../src/state/identity.ts';
import { AGENT_VERSION } from '../src/version.ts';
import {
  agentConfig,
  applyCustomer,
  connectedAgent,
  customer,
  enrolledStateDir,
  memoryLogger,
  plan,
  recordingExecutor,
  removeDir,
  router,
  ROUTER_PASSWORD,
} from './helpers/agent-fixtures.ts';
import { FakeController } from './helpers/fake-controller.ts';

const isAck =
  (id: string) =>
  (m: AgentMessage): m is AckMessage =>
    m.type === 'ack' && m.commandId === id;
const isHello = (m: AgentMessage): m is HelloMessage => m.type === 'hello';

describe('agent channel', () => {
  let controller: FakeController;
  let stateDir: string;
  let agentId: string;
  const agents: AgentHandle[] = [];

  beforeEach(async () => {
    controller = await FakeController.start();
    ({ stateDir, agentId } = await enrolledStateDir(controller));
  });

  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.stop()));
    await controller.close();
    await removeDir(dirname(stateDir));
  });

  async function start(options: Parameters<typeof connectedAgent>[1] = {}): Promise<AgentHandle> {
    const agent = await connectedAgent(stateDir, options);
    agents.push(agent);
    return agent;
  }

  describe('connecting', () => {
    it('signs a fresh challenge on the upgrade and says hello first', async () => {
      await start();
      const upgrade = controller.upgrades.at(-1)!;
      expect(upgrade.accepted).to.equal(true);
      const h = upgrade.headers;
      const identity = (await readIdentity(stateDir))!;
      const challenge = agentAuthChallenge(agentId, h[AGENT_AUTH_HEADERS.timestamp] as string, h[AGENT_AUTH_HEADERS.nonce] as string);
      expect(verifyText(challenge, h[AGENT_AUTH_HEADERS.signature] as string, loadPublicKey(identity.publicKey))).to.equal(true);
      expect(Math.abs(Date.parse(h[AGENT_AUTH_HEADERS.timestamp] as string) - Date.now())).to.be.below(5000);
      expect(Buffer.from(h[AGENT_AUTH_HEADERS.nonce] as string, 'base64url').length).to.be.at.least(16);

      const hello = await controller.waitFor(isHello);
      expect(controller.messages[0]!.msg.type).to.equal('hello');
      expect(controller.messages.every((m) => m.verified)).to.equal(true);
      expect(hello).to.include({ agentId, agentVersion: AGENT_VERSION, capability: CAPABILITY_VERSION, lastSeq: 0 });
      expect(hello.routers).to.deep.equal([{ name: 'core-1', transport: 'api', host: '10.0.0.1' }]);
      expect(JSON.stringify(controller.messages)).not.to.contain(ROUTER_PASSWORD);
    });

    it('reports router health on connect', async () => {
      await start();
      const health = await controller.waitFor((m): m is HealthMessage => m.type === 'health');
      expect(health.routers).to.have.length(1);
      expect(health.routers[0]).to.include({ name: 'core-1', reachable: true, version: '7.18.2 (stable)' });
    });

    it('reports health every interval, naming why a router is unreachable', async () => {
      const probe = async (r: { name: string }): Promise<{ version: string; identity: string }> => {
        if (r.name === 'edge-2') throw new RouterError('unreachable', 'connect ETIMEDOUT 10.0.0.2:8728');
        return { version: '7.18.2 (stable)', identity: r.name };
      };
      await start({ probe, config: agentConfig([router('core-1'), router('edge-2')]), timing: { healthIntervalMs: 80 } });
      const reports = await controller.until(() => {
        const all = controller.messages.filter((m) => m.msg.type === 'health').map((m) => m.msg as HealthMessage);
        return all.length >= 4 && all;
      }, 3000);
      const last = reports.at(-1)!;
      expect(last.routers.find((r) => r.name === 'core-1')).to.include({ reachable: true, identity: 'core-1' });
      expect(last.routers.find((r) => r.name === 'edge-2')).to.include({ reachable: false, error: 'connect ETIMEDOUT 10.0.0.2:8728' });
    });

    it("sends each customer menu's entry count to a controller that takes them, and leaves them out for an older one", async () => {
      const entries = { '/ppp/secret': 480, '/ip/hotspot/user': 0, '/queue/simple': 12, '/ip/firewall/address-list': 15 };
      const probe = async () => ({ version: '7.18.2 (stable)', identity: 'core-1', entries: { ...entries, '/ip/pool': 3 } });
      const health = () => controller.waitFor((m): m is HealthMessage => m.type === 'health');
      await start({ probe });
      const old = (await health()).routers[0]!;
      expect(old).to.include({ reachable: true, identity: 'core-1' }).and.not.have.property('entries');
      expect(controller.messages.every((m) => m.verified)).to.equal(true);
      await Promise.all(agents.splice(0).map((a) => a.stop()));
      await controller.close();
      await removeDir(dirname(stateDir));
      controller = await FakeController.start({ capability: ENTRY_COUNTS_CAPABILITY });
      ({ stateDir } = await enrolledStateDir(controller));
      await start({ probe });
      expect((await health()).routers[0]?.entries, 'only the menus the schema knows').to.deep.equal(entries);
    });

    it('reconnects after the controller drops the connection, with a new nonce', async () => {
      await start();
      await controller.waitFor(isHello);
      controller.dropAll();
      await controller.until(() => controller.messages.filter((m) => m.msg.type === 'hello').length === 2);
      expect(controller.upgrades.filter((u) => u.accepted)).to.have.length(2);
      const nonces = controller.upgrades.map((u) => u.headers[AGENT_AUTH_HEADERS.nonce]);
      expect(new Set(nonces).size).to.equal(nonces.length);
      expect(controller.messages.filter((m) => m.msg.type === 'hello')).to.have.length(2);
    });

    it('keeps retrying after a 401 and gets in once the controller accepts it again', async () => {
      controller.refuseUpgrades = true;
      const { logger, lines } = memoryLogger('info');
      const agentPromise = start({ logger, timing: { authRetryMs: 100 } });
      await controller.until(() => controller.upgrades.length >= 2);
      expect(lines.some((l) => l.includes('HTTP 401'))).to.equal(true);
      controller.refuseUpgrades = false;
      await agentPromise;
      expect(controller.upgrades.at(-1)!.accepted).to.equal(true);
    });

    it('drops a controller that stays silent for two ping intervals', async () => {
      await controller.close();
      controller = await FakeController.start({ autoPong: false });
      ({ stateDir, agentId } = await enrolledStateDir(controller));
      await start({ timing: { pingIntervalMs: 100 } });
      const connectedAt = Date.now();
      await controller.until(() => controller.upgrades.filter((u) => u.accepted).length >= 2, 3000);
      expect(Date.now() - connectedAt).to.be.within(150, 1500);
    });
  });

  describe('backoff', () => {
    it('stays under the cap however many attempts failed', () => {
      for (let attempt = 0; attempt < 200; attempt += 1) expect(backoffDelay(attempt, { baseMs: 500, capMs: 30_000 })).to.be.within(0, 30_000);
      expect(backoffDelay(1000, { baseMs: 500, capMs: 30_000, random: () => 0.999999 })).to.be.within(29_000, 30_000);
    });

    it('is full jitter: uniform between zero and the exponential ceiling', () => {
      expect(backoffDelay(3, { baseMs: 500, capMs: 30_000, random: () => 0 })).to.equal(0);
      expect(backoffDelay(3, { baseMs: 500, capMs: 30_000, random: () => 0.5 })).to.equal(2000);
      const samples = Array.from({ length: 500 }, () => backoffDelay(10, { baseMs: 500, capMs: 30_000 }));
      expect(new Set(samples).size).to.be.above(400);
      expect(Math.min(...samples)).to.be.below(3000);
      expect(Math.max(...samples)).to.be.above(27_000);
    });

    it('jitters keepalives around their period', () => {
      const samples = Array.from({ length: 200 }, () => jittered(15_000));
      expect(Math.min(...samples)).to.be.at.least(12_000);
      expect(Math.max(...samples)).to.be.at.most(18_000);
      expect(new Set(samples).size).to.be.above(100);
    });
  });

  describe('command intake', () => {
    it('applies an accepted command and acks it applied, signed', async () => {
      const executor = recordingExecutor();
      const agent = await start({ executor });
      const frame = controller.seal(agentId, 'customer.apply', applyCustomer('c1'));
      const ack = await controller.deliver(frame);
      expect(ack).to.include({ status: 'applied', seq: 1, agentId });
      expect(ack.result!.changes).to.deep.equal(['applied customer.apply']);
      expect(executor.calls).to.have.length(1);
      expect(agent.lastSeq).to.equal(1);
      expect(controller.messages.every((m) => m.verified)).to.equal(true);
    });

    const rejections: [string, (c: FakeController, agentId: string) => unknown, string][] = [
      [
        'a forged signature',
        (c, id) => c.seal(id, 'customer.apply', applyCustomer('c1'), { key: loadPrivateKey(generateSigningKeys().privateKey) }),
        'bad-signature',
      ],
      ["another agent's envelope", (c, id) => c.seal(id, 'customer.apply', applyCustomer('c1'), { forAgent: 'agt_someone_else' }), 'wrong-agent'],
      [
        'an expired envelope',
        (c, id) => c.seal(id, 'customer.apply', applyCustomer('c1'), { issuedAt: new Date(Date.now() - 7200_000), expiresAt: new Date(Date.now() - 1000) }),
        'expired',
      ],
      ['an unknown command type', (c, id) => c.seal(id, 'router.shell' as 'router.health', { router: 'core-1', cmd: '/system reboot' }), 'unknown-type'],
      [
        'a payload that fails its schema',
        (c, id) => c.seal(id, 'customer.apply', { router: 'core-1', customer: { ...customer('c1'), username: 'bad name;' } }),
        'bad-payload',
      ],
    ];
    for (const [what, build, reason] of rejections) {
      it(`rejects ${what} and applies nothing`, async () => {
        const executor = recordingExecutor();
        const agent = await start({ executor });
        const ack = await controller.deliver(build(controller, agentId) as { envelope: { id: string } });
        expect(ack.status).to.equal('rejected');
        expect(ack.error).to.include({ code: reason, retryable: false });
        expect(executor.calls).to.have.length(0);
        expect(agent.lastSeq).to.equal(0);
      });
    }

    it('rejects an envelope with extra fields even when they are signed', async () => {
      const executor = recordingExecutor();
      await start({ executor });
      const frame = controller.seal(agentId, 'customer.apply', applyCustomer('c1'));
      const envelope = { ...frame.envelope, shell: 'rm -rf /' };
      const ack = await controller.deliver({ kind: 'command', envelope, sig: signEnvelope(envelope, controller.key.privateKey) });
      expect(ack.status).to.equal('rejected');
      expect(ack.error!.code).to.equal('extra-fields');
      expect(executor.calls).to.have.length(0);
    });

    it('rejects a replayed seq with a new id', async () => {
      const executor = recordingExecutor();
      await start({ executor });
      const first = controller.seal(agentId, 'customer.apply', applyCustomer('c1'), { seq: 5 });
      await controller.deliver(first);
      const replay = controller.seal(agentId, 'customer.apply', applyCustomer('c2'), { seq: 5 });
      const ack = await controller.deliver(replay);
      expect(ack).to.include({ status: 'rejected', seq: 5 });
      expect(ack.error!.code).to.equal('replayed-seq');
      expect(executor.calls.map((c) => c.id)).to.deep.equal([first.envelope.id]);
    });

    it('closes the connection on an oversized frame without applying anything', async () => {
      const executor = recordingExecutor();
      await start({ executor });
      const frame = controller.seal(agentId, 'customer.apply', { ...applyCustomer('c1'), padding: 'x'.repeat(AGENT_MAX_PAYLOAD) });
      controller.send(frame);
      await controller.until(() => controller.upgrades.filter((u) => u.accepted).length >= 2 && controller.connections === 1);
      expect(executor.calls).to.have.length(0);
    });

    it('ignores text that is not JSON and keeps working', async () => {
      const executor = recordingExecutor();
      await start({ executor });
      controller.send('{"kind":"command",');
      const frame = controller.seal(agentId, 'customer.apply', applyCustomer('c1'));
      expect((await controller.deliver(frame)).status).to.equal('applied');
      expect(executor.calls).to.have.length(1);
    });

    it('answers a redelivered id as duplicate with the stored result and never applies it twice', async () => {
      const executor = recordingExecutor();
      await start({ executor });
      const frame = controller.seal(agentId, 'customer.apply', applyCustomer('c1'));
      const first = await controller.deliver(frame);
      controller.send(frame);
      await controller.until(() => controller.acks(frame.envelope.id as string).length === 2);
      const second = controller.acks(frame.envelope.id as string)[1]!;
      expect(second.status).to.equal('duplicate');
      expect(second.result).to.deep.equal(first.result);
      expect(executor.calls).to.have.length(1);
    });

    it('answers a redelivery of a command still running once it finishes', async () => {
      const executor = recordingExecutor({ delayMs: 150 });
      await start({ executor });
      const frame = controller.seal(agentId, 'customer.apply', applyCustomer('c1'));
      controller.send(frame);
      controller.send(frame);
      await controller.until(() => controller.acks(frame.envelope.id as string).length === 2);
      expect(
        controller
          .acks(frame.envelope.id as string)
          .map((a) => a.status)
          .sort(),
      ).to.deep.equal(['applied', 'duplicate']);
      expect(executor.calls).to.have.length(1);
    });

    it('does not treat a forged frame reusing a known id as a duplicate', async () => {
      await start();
      const frame = controller.seal(agentId, 'customer.apply', applyCustomer('c1'));
      await controller.deliver(frame);
      const forged = controller.seal(agentId, 'customer.apply', applyCustomer('c1'), {
        id: frame.envelope.id as string,
        key: loadPrivateKey(generateSigningKeys().privateKey),
      });
      controller.send(forged);
      await controller.until(() => controller.acks(frame.envelope.id as string).length === 2);
      expect(controller.acks(frame.envelope.id as string)[1]).to.deep.include({ status: 'rejected' });
    });

    it('persists lastSeq: a second agent on the same state dir rejects an old seq', async () => {
      const executor = recordingExecutor();
      const first = await start({ executor });
      const frame = controller.seal(agentId, 'customer.apply', applyCustomer('c1'), { seq: 7 });
      await controller.deliver(frame);
      await first.stop();

      const second = await start({ executor });
      expect(second.lastSeq).to.equal(7);
      const hellos = await controller.until(() => {
        const all = controller.messages.filter((m) => m.msg.type === 'hello').map((m) => m.msg as HelloMessage);
        return all.length === 2 && all;
      });
      expect(hellos[1]!.lastSeq).to.equal(7);
      const old = controller.seal(agentId, 'customer.apply', applyCustomer('c2'), { seq: 6 });
      expect((await controller.deliver(old)).error!.code).to.equal('replayed-seq');
      controller.send(frame);
      await controller.until(() => controller.acks(frame.envelope.id as string).length === 2);
      expect(controller.acks(frame.envelope.id as string)[1]!.status).to.equal('duplicate');
      expect(executor.calls).to.have.length(1);
    });

    it('refuses a second agent on a state directory in use, and lets one in after a stop', async () => {
      const first = await start();
      let error: Error | undefined;
      await start().catch((err: Error) => (error = err));
      expect(error?.message).to.equal(`another agent (pid ${process.pid}) is running on ${stateDir}`);
      await first.stop();
      await start();
    });

    it('fails a command for a router it does not know, not retryable', async () => {
      const executor = recordingExecutor();
      await start({ executor });
      const frame = controller.seal(agentId, 'customer.apply', applyCustomer('c1', 'nowhere'));
      const ack = await controller.deliver(frame);
      expect(ack.status).to.equal('failed');
      expect(ack.error).to.include({ code: 'unknown-router', retryable: false });
      expect(ack.error!.message).to.contain('"nowhere"').and.contain('core-1');
      expect(executor.calls).to.have.length(0);
    });

    it("reports a router's own error text and whether a retry may help", async () => {
      const executor = recordingExecutor({
        fail: (env) =>
          env.type === 'customer.apply'
            ? new RouterError('trap', 'adding /ppp/secret failed', { routerMessage: 'failure: secret with the same name already exists' })
            : new RouterError('unreachable', 'connect ECONNREFUSED 10.0.0.1:8728'),
      });
      await start({ executor });
      const trap = controller.seal(agentId, 'customer.apply', applyCustomer('c1'));
      const down = controller.seal(agentId, 'plan.apply', { router: 'core-1', plan });
      controller.send(trap);
      controller.send(down);
      const trapAck = await controller.waitFor(isAck(trap.envelope.id as string));
      const downAck = await controller.waitFor(isAck(down.envelope.id as string));
      expect(trapAck.error).to.deep.equal({
        code: 'router-trap',
        message: 'adding /ppp/secret failed',
        routerError: 'failure: secret with the same name already exists',
        retryable: false,
      });
      expect(downAck.error).to.include({ code: 'router-unreachable', retryable: true });
    });

    it('fails other executor errors as not retryable with their message', async () => {
      await start({ executor: recordingExecutor({ fail: () => new Error('boom') }) });
      const frame = controller.seal(agentId, 'customer.remove', {
        router: 'core-1',
        customer: { customerId: 'c1', connectionType: 'pppoe', username: 'user-c1' },
      });
      expect((await controller.deliver(frame)).error).to.deep.equal({ code: 'agent-error', message: 'boom', retryable: false });
    });

    it('logs each command with agentId, commandId, routerName and customerId, never the router password', async () => {
      const { logger, lines } = memoryLogger('debug');
      await start({ logger });
      const frame = controller.seal(agentId, 'customer.apply', applyCustomer('c1'));
      await controller.deliver(frame);
      const about = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.commandId === frame.envelope.id);
      expect(about.length).to.be.at.least(2);
      for (const line of about) expect(line).to.include({ agentId, routerName: 'core-1', customerId: 'c1' });
      expect(lines.join('\n')).not.to.contain(ROUTER_PASSWORD);
    });
  });

  describe('execution order', () => {
    it('runs one customer’s commands in order and different customers concurrently, within the bound', async () => {
      const order: string[] = [];
      const executor = recordingExecutor({ delayMs: 30 });
      const tracking = Object.assign(async (...args: Parameters<typeof executor>) => {
        order.push(`start ${args[1].id}`);
        const result = await executor(...args);
        order.push(`end ${args[1].id}`);
        return result;
      }, {});
      await start({ executor: tracking, concurrencyPerRouter: 4 });
      const sameCustomer = [1, 2, 3].map(() => controller.seal(agentId, 'customer.apply', applyCustomer('same')));
      const others = Array.from({ length: 8 }, (_, i) => controller.seal(agentId, 'customer.apply', applyCustomer(`other-${i}`)));
      for (const frame of [...sameCustomer, ...others]) controller.send(frame);
      await controller.until(() => controller.messages.filter((m) => m.msg.type === 'ack').length === 11, 5000);
      const ids = sameCustomer.map((f) => f.envelope.id as string);
      expect(order.indexOf(`start ${ids[1]}`)).to.be.above(order.indexOf(`end ${ids[0]}`));
      expect(order.indexOf(`start ${ids[2]}`)).to.be.above(order.indexOf(`end ${ids[1]}`));
      expect(executor.maxRunning).to.equal(4);
    });

    it('gathers reconcile chunks, acks the early ones buffered, and reconciles once as a barrier', async () => {
      const executor = recordingExecutor({ delayMs: 20 });
      await start({ executor });
      const before = controller.seal(agentId, 'customer.apply', applyCustomer('c0'));
      const chunks = [0, 1, 2].map((index) =>
        controller.seal(agentId, 'router.reconcile', {
          router: 'core-1',
          reconcileId: 'r-1',
          chunk: { index, count: 3 },
          plans: [plan],
          customers: [customer(`c${index + 1}`)],
        }),
      );
      const after = controller.seal(agentId, 'customer.apply', applyCustomer('c9'));
      for (const frame of [before, ...chunks, after]) controller.send(frame);
      const acks = await Promise.all(chunks.map((c) => controller.waitFor(isAck(c.envelope.id as string))));
      expect(acks.slice(0, 2).map((a) => a.result!.summary)).to.deep.equal([{ buffered: 1 }, { buffered: 2 }]);
      expect(acks[2]!.status).to.equal('applied');
      await controller.waitFor(isAck(after.envelope.id as string));
      expect(executor.calls.map((c) => c.type)).to.deep.equal(['customer.apply', 'router.reconcile', 'customer.apply']);
      const merged = executor.calls[1]!;
      expect(merged.id).to.equal(chunks[2]!.envelope.id);
      expect((merged.payload as { customers: { customerId: string }[] }).customers.map((c) => c.customerId)).to.deep.equal(['c1', 'c2', 'c3']);
    });

    it('fails the last chunk of a reconcile whose earlier chunks are missing', async () => {
      const executor = recordingExecutor();
      await start({ executor });
      const last = controller.seal(agentId, 'router.reconcile', {
        router: 'core-1',
        reconcileId: 'r-2',
        chunk: { index: 1, count: 2 },
        plans: [],
        customers: [],
      });
      const ack = await controller.deliver(last);
      expect(ack.status).to.equal('failed');
      expect(ack.error!.code).to.equal('reconcile-incomplete');
      expect(executor.calls).to.have.length(0);
    });

    it('does not run a finished reconcile again when only its closing record was lost', async () => {
      const executor = recordingExecutor();
      const first = await start({ executor });
      const chunks = [0, 1].map((index) =>
        controller.seal(agentId, 'router.reconcile', {
          router: 'core-1',
          reconcileId: 'r-4',
          chunk: { index, count: 2 },
          plans: [],
          customers: [customer(`c${index}`)],
        }),
      );
      for (const chunk of chunks) await controller.deliver(chunk);
      await first.stop();
      const journalPath = join(stateDir, 'journal.log');
      const lines = (await readFile(journalPath, 'utf8')).split('\n').filter((l) => !l.includes('"t":"closed"'));
      await writeFile(journalPath, lines.join('\n'));

      const second = await start({ executor });
      await second.idle();
      expect(await readFile(journalPath, 'utf8')).to.match(/"t":"closed","reconcileId":"r-4"/);
      expect(executor.calls).to.have.length(1);
    });

    it('keeps buffered reconcile chunks across a restart', async () => {
      const executor = recordingExecutor();
      const first = await start({ executor });
      const chunk0 = controller.seal(agentId, 'router.reconcile', {
        router: 'core-1',
        reconcileId: 'r-3',
        chunk: { index: 0, count: 2 },
        plans: [plan],
        customers: [customer('c1')],
      });
      await controller.deliver(chunk0);
      await first.stop();
      await start({ executor, config: agentConfig([router()]) });
      const chunk1 = controller.seal(agentId, 'router.reconcile', {
        router: 'core-1',
        reconcileId: 'r-3',
        chunk: { index: 1, count: 2 },
        plans: [],
        customers: [customer('c2')],
      });
      expect((await controller.deliver(chunk1)).status).to.equal('applied');
      expect((executor.calls[0]!.payload as { customers: unknown[] }).customers).to.have.length(2);
    });
  });
});
