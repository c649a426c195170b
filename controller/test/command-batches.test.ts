import { expect } from 'chai';
import { checkEnvelope, generateSigningKeys, loadPrivateKey, loadPublicKey, openCommandBatch, openCommandFrame } from '@mtandao/protocol/signing';
import type { BuildOutcome, DesiredStateBuilder } from '../src/gateway/desired-state.ts';
import { Delivery } from '../src/gateway/delivery.ts';
import { batchFrames, commandFields } from '../src/gateway/command-frames.ts';
import type { AgentHub, AgentSession } from '../src/gateway/hub.ts';
import type { RouterDirectory } from '../src/gateway/router-directory.ts';
import { newSessionState } from '../src/gateway/session-state.ts';
import { createLogger } from '../src/logger.ts';
import { claimedJob } from './helpers/claimed-job.ts';
import type { ClaimedJob, OutboxRepository } from '../src/repositories/outbox.repository.ts';

const keys = generateSigningKeys();
const signingKey = loadPrivateKey(keys.privateKey);
const controllerKey = loadPublicKey(keys.publicKey);
const readback = { type: 'router.readback', payload: { router: 'r1', offset: 0, limit: 10 } };

const job = (id: number, seq: number): ClaimedJob => claimedJob(String(id), seq);

/** Delivers claimed jobs to one recorded session of an agent of `capability`; `chunks` says how many commands each job builds. */
async function deliver(capability: number, chunks: number[], open = () => true) {
  let seq = 0;
  const claimed = chunks.map((n, i) => job(i + 1, (seq += n)));
  const frames: string[] = [];
  const requeued: string[] = [];
  const session = {
    agentId: 'a1',
    get open() {
      return open();
    },
    send: (frame: string) => frames.push(frame),
  } as unknown as AgentSession;
  const delivery = new Delivery({
    hub: { sessions: new Map() } as unknown as AgentHub,
    outbox: { requeueUnsent: async (ids: string[]) => requeued.push(...ids) } as unknown as OutboxRepository,
    builder: {
      build: async (jobs: ClaimedJob[]) =>
        new Map<string, BuildOutcome>(jobs.map((j, i) => [String(j.id), { commands: Array.from({ length: chunks[i]! }, () => readback) } as BuildOutcome])),
    } as unknown as DesiredStateBuilder,
    directory: { names: new Map([['1', 'r1']]), name: () => 'r1', refresh: async () => undefined } as unknown as RouterDirectory,
    signingKey,
    kick: () => undefined,
  });
  const st = { ...newSessionState(), capability };
  await delivery.deliver(session, st, claimed, createLogger('silent'));
  return { frames: frames.map((f) => JSON.parse(f) as { kind: string; envelopes?: { seq: number }[]; envelope?: { seq: number } }), raw: frames, st, requeued };
}

describe('command batches (one signature for a claimed round, agents of capability 4)', () => {
  it('sends single-command jobs in a row as one batch frame, a chunked job as its own frames between, seqs rising throughout', async () => {
    const { frames, raw, st } = await deliver(4, [1, 1, 1, 2, 1, 1]);
    expect(frames.map((f) => f.kind)).to.deep.equal(['commands', 'command', 'command', 'commands']);
    const seqs = frames.flatMap((f) => (f.envelopes ?? [f.envelope!]).map((e) => e.seq));
    expect(seqs).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
    expect(st.inFlight).to.equal(6);
    // what the agent does: one signature check, then each envelope on its own, in order
    let lastSeq = 0;
    for (const text of raw) {
      const frame = JSON.parse(text) as { kind: string };
      const envelopes =
        frame.kind === 'commands'
          ? (() => {
              const opened = openCommandBatch(frame, controllerKey);
              expect(opened.ok).to.equal(true);
              return opened.ok ? opened.envelopes : [];
            })()
          : [frame];
      for (const env of envelopes) {
        const r = frame.kind === 'commands' ? checkEnvelope(env, { agentId: 'a1', lastSeq }) : openCommandFrame(env, { controllerKey, agentId: 'a1', lastSeq });
        expect(r.ok, JSON.stringify(r)).to.equal(true);
        if (r.ok) lastSeq = r.envelope.seq;
      }
    }
    expect(lastSeq).to.equal(7);
  });

  it('an agent below capability 4 gets one signed frame per command, as before', async () => {
    const { frames } = await deliver(3, [1, 1, 2, 1]);
    expect(frames.map((f) => f.kind)).to.deep.equal(['command', 'command', 'command', 'command', 'command']);
  });

  it('a lone command goes as an ordinary frame; a batch beyond the most per frame is split, in order', async () => {
    expect((await deliver(4, [1])).frames.map((f) => f.kind)).to.deep.equal(['command']);
    const many = Array.from({ length: 300 }, (_, i) => commandFields(job(i + 1, i + 1), [readback as never], { agentId: 'a1', capability: 4 })[0]!);
    const out = batchFrames(many, signingKey).map((f) => JSON.parse(f) as { kind: string; envelopes: { seq: number }[] });
    expect(out.map((f) => f.kind)).to.deep.equal(['commands', 'commands']);
    expect(out.flatMap((f) => f.envelopes.map((e) => e.seq))).to.deep.equal(many.map((f) => f.seq));
  });

  it('a tampered batch verifies for none of its envelopes', async () => {
    const { raw } = await deliver(4, [1, 1, 1]);
    const frame = JSON.parse(raw[0]!) as { envelopes: { payload: { limit: number } }[] };
    frame.envelopes[1]!.payload.limit = 11;
    const opened = openCommandBatch(frame, controllerKey);
    expect(opened.ok).to.equal(false);
    expect(opened.ok ? [] : opened.refusals.map((r) => r.reason)).to.deep.equal(['bad-signature', 'bad-signature', 'bad-signature']);
  });

  it('jobs waiting in a batch when the connection closes go back to the queue, none counted as sent', async () => {
    let calls = 0;
    // open while the jobs are looked at, closed by the time the batch would leave
    const { frames, st, requeued } = await deliver(4, [1, 1], () => ++calls <= 2);
    expect(frames).to.deep.equal([]);
    expect(requeued).to.deep.equal(['j1-1-abcdef12', 'j2-1-abcdef12']);
    expect(st.inFlight).to.equal(0);
  });
});
