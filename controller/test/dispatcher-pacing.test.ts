import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import type { AckMessage } from '@mtandao/protocol';
import { generateSigningKeys, loadPrivateKey } from '@mtandao/protocol/signing';
import type { BuildOutcome, DesiredStateBuilder } from '../src/gateway/desired-state.ts';
import { Dispatcher } from '../src/gateway/dispatcher.ts';
import type { AgentHub, AgentSession } from '../src/gateway/hub.ts';
import type { RouterWatch } from '../src/gateway/router-watch.ts';
import { createLogger } from '../src/logger.ts';
import type { JobsRepository } from '../src/repositories/jobs.repository.ts';
import type { ClaimedJob, OutboxRepository } from '../src/repositories/outbox.repository.ts';
import type { RoutersRepository } from '../src/repositories/routers.repository.ts';
import type { SitesRepository } from '../src/repositories/sites.repository.ts';
import type { ProvisioningService } from '../src/services/provisioning.service.ts';
import { claimedJob } from './helpers/claimed-job.ts';

const signingKey = loadPrivateKey(generateSigningKeys().privateKey);
const until = async (what: string, ok: () => boolean, ms = 5000) => {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
};
const turn = () => new Promise((r) => setTimeout(r, 20));

/** A dispatcher over an outbox in memory and one agent session that records what it was sent. */
function rig(options: { claimSpacingMs: number; holdForAcksMs: number }) {
  let nextId = 1;
  let seq = 0;
  const due: ClaimedJob[] = [];
  const claims: number[] = [];
  const settled: string[] = [];
  const sent: { id: string; seq: number; at: number }[] = [];
  const add = () => {
    const id = String(nextId++);
    due.push(claimedJob(id, 0));
  };
  const outbox = {
    claim: async (_site: string, _agent: string, limit: number) => {
      const jobs = due.splice(0, limit).map((j) => ({ ...j, seq: String(++seq) }));
      claims.push(jobs.length);
      return jobs;
    },
    settleApplied: async (acks: { commandId: string }[]) => {
      settled.push(...acks.map((a) => a.commandId));
      return acks.map((a) => a.commandId);
    },
    routerSites: async () => new Map([['1', 's1']]),
  } as unknown as OutboxRepository;
  const builder = {
    build: async (jobs: ClaimedJob[]) =>
      new Map<string, BuildOutcome>(
        jobs.map((j) => [String(j.id), { commands: [{ type: 'router.readback', payload: { router: 'r1', offset: 0, limit: 10 } }] }]),
      ),
  } as unknown as DesiredStateBuilder;
  const session = {
    agentId: 'a1',
    siteId: 's1',
    helloReceived: true,
    open: true,
    drained: async () => undefined,
    send: (frame: string) => {
      const env = (JSON.parse(frame) as { envelope: { id: string; seq: number } }).envelope;
      sent.push({ id: env.id, seq: env.seq, at: performance.now() });
    },
  } as unknown as AgentSession;
  const hub = { sessions: new Map([['a1', session]]), instanceId: 'test' } as unknown as AgentHub;
  const dispatcher = new Dispatcher(
    {
      hub,
      outbox,
      jobs: {} as JobsRepository,
      sites: {} as SitesRepository,
      routers: { list: async () => [{ id: '1', name: 'r1' }] } as unknown as RoutersRepository,
      builder,
      provisioning: { wake: new EventEmitter() } as unknown as ProvisioningService,
      signingKey,
      logger: createLogger('silent'),
    },
    { pollMs: 60_000, databaseUrl: '', listen: false, watch: {} as RouterWatch, ...options },
  );
  const ack = (commandId: string): Promise<void> => {
    const a: AckMessage = {
      type: 'ack',
      agentId: 'a1',
      commandId,
      seq: 1,
      status: 'applied',
      durationMs: 1,
      result: { changes: [] },
      at: new Date().toISOString(),
    };
    return dispatcher.onMessage(session, { type: 'acks', agentId: 'a1', acks: [a], at: new Date().toISOString() });
  };
  return { dispatcher, session, add, claims, sent, settled, ack, due };
}

describe('dispatcher pacing (claims per job)', () => {
  it('claims a lone job at once, with nothing in flight', async () => {
    const r = rig({ claimSpacingMs: 0, holdForAcksMs: 60_000 });
    r.add();
    r.dispatcher.kick(r.session);
    await until('the job is sent', () => r.sent.length === 1);
    expect(r.claims).to.deep.equal([1]);
  });

  it("holds a claim while the last batch's acks are on their way, and claims what gathered meanwhile when they arrive", async () => {
    const r = rig({ claimSpacingMs: 0, holdForAcksMs: 60_000 });
    r.add();
    r.add();
    r.dispatcher.kick(r.session);
    await until('the first two are sent', () => r.sent.length === 2);
    for (let i = 0; i < 3; i++) {
      r.add();
      r.dispatcher.kick(r.session);
    }
    await turn();
    expect(r.claims, 'no claim before the acks').to.deep.equal([2]);
    await r.ack(r.sent[0]!.id);
    await until('the three are sent', () => r.sent.length === 5);
    // one claim took all three, in seq order, each its own envelope
    expect(r.claims).to.deep.equal([2, 3]);
    expect(r.sent.map((s) => s.seq)).to.deep.equal([1, 2, 3, 4, 5]);
    expect(new Set(r.sent.map((s) => s.id)).size).to.equal(5);
    expect(r.settled).to.deep.equal([r.sent[0]!.id]);
    // all acked: the next lone job goes at once again
    for (const s of r.sent.slice(1)) await r.ack(s.id);
    r.add();
    r.dispatcher.kick(r.session);
    await until('the sixth is sent', () => r.sent.length === 6);
    expect(r.claims).to.deep.equal([2, 3, 1]);
  });

  it('does not hold adds that come one at a time, slower than the agent answers (a router far away)', async () => {
    const r = rig({ claimSpacingMs: 0, holdForAcksMs: 60_000 });
    for (let i = 1; i <= 3; i++) {
      r.add();
      r.dispatcher.kick(r.session);
      await until(`job ${i} is sent while the one before still awaits its ack`, () => r.sent.length === i);
      if (i > 1) await r.ack(r.sent[i - 2]!.id);
    }
    expect(r.claims).to.deep.equal([1, 1, 1]);
  });

  it('claims anyway once the hold has lasted its limit (an ack that never comes delays, never stops, delivery)', async () => {
    const r = rig({ claimSpacingMs: 0, holdForAcksMs: 60 });
    r.add();
    r.add();
    r.dispatcher.kick(r.session);
    await until('the first two are sent', () => r.sent.length === 2);
    r.add();
    r.dispatcher.kick(r.session);
    await until('the third is sent without an ack', () => r.sent.length === 3);
    expect(r.sent[2]!.at - r.sent[1]!.at).to.be.at.least(55);
    expect(r.claims).to.deep.equal([2, 1]);
  });
});
