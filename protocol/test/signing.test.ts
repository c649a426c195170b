import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { canonicalize } from '../src/index.ts';
import {
  checkEnvelope,
  generateSigningKeys,
  loadPrivateKey,
  loadPublicKey,
  openCommandBatch,
  openCommandFrame,
  sealCommand,
  sealCommandBatchText,
  sealCommandText,
  signEnvelope,
} from '../src/signing.ts';

const controller = generateSigningKeys();
const controllerPriv = loadPrivateKey(controller.privateKey);
const controllerPub = loadPublicKey(controller.publicKey);

const customer = {
  customerId: 'c1',
  connectionType: 'pppoe',
  username: 'jane',
  password: 'secret "pw" $x',
  status: 'active',
  ipAddress: '10.64.0.10',
  plan: { planId: 'p1', name: 'Home 10M', connectionType: 'pppoe', uploadSpeed: '5M', downloadSpeed: '10M', localAddress: '10.64.0.1' },
};

function frame(overrides: Partial<{ agentId: string; seq: number; expiresAt: Date; issuedAt: Date; type: string; payload: unknown }> = {}) {
  return sealCommand(
    {
      id: randomUUID(),
      agentId: overrides.agentId ?? 'agent-1',
      seq: overrides.seq ?? 5,
      issuedAt: overrides.issuedAt ?? new Date(),
      expiresAt: overrides.expiresAt ?? new Date(Date.now() + 60_000),
      type: (overrides.type ?? 'customer.apply') as 'customer.apply',
      payload: overrides.payload ?? { router: 'core', customer },
    },
    controllerPriv,
  );
}
const ctx = { controllerKey: controllerPub, agentId: 'agent-1', lastSeq: 4 };

describe('canonical encoding', () => {
  it('does not depend on key order', () => {
    expect(canonicalize({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: 'é' } })).to.equal(canonicalize({ a: { c: 'é', d: [1, { x: 1, y: 2 }] }, b: 1 }));
  });
  it('refuses NaN', () => {
    expect(() => canonicalize({ a: Number.NaN })).to.throw();
  });
  it('is JSON with keys sorted by code unit, undefined members dropped and undefined array items null', () => {
    const value = { é: 1, Z: [undefined, -0, 1e21, 0.1, 'a"\\\n\u2028'], a: { skip: undefined, b: null, '': true }, B: false, '\ud83d\ude00': 'x' };
    expect(canonicalize(value)).to.equal('{"B":false,"Z":[null,0,1e+21,0.1,"a\\"\\\\\\n\u2028"],"a":{"":true,"b":null},"é":1,"\ud83d\ude00":"x"}');
    // what goes on the wire parses back to the same bytes
    expect(canonicalize(JSON.parse(canonicalize(value)))).to.equal(canonicalize(value));
  });
});

describe('command envelopes', () => {
  it('accepts a well-formed signed command', () => {
    const res = openCommandFrame(frame(), ctx);
    expect(res.ok).to.equal(true);
  });
  it('sealed as wire text, the agent opens exactly what was signed', () => {
    const fields = {
      id: 'j7-1-abcd',
      agentId: 'agent-1',
      seq: 5,
      issuedAt: new Date(),
      expiresAt: new Date(Date.now() + 60_000),
      type: 'customer.apply' as const,
      payload: { router: 'core', customer },
    };
    const text = sealCommandText(fields, controllerPriv);
    const parsed = JSON.parse(text) as { envelope: Record<string, unknown>; sig: string };
    expect(parsed).to.deep.equal(JSON.parse(JSON.stringify(sealCommand(fields, controllerPriv))));
    expect(openCommandFrame(parsed, ctx).ok).to.equal(true);
    const tampered = JSON.parse(text.replace('"router":"core"', '"router":"edge"')) as unknown;
    expect(openCommandFrame(tampered, ctx)).to.include({ ok: false, reason: 'bad-signature' });
  });
  it('rejects a forged signature', () => {
    const other = loadPrivateKey(generateSigningKeys().privateKey);
    const f = sealCommand(
      {
        id: 'x',
        agentId: 'agent-1',
        seq: 9,
        issuedAt: new Date(),
        expiresAt: new Date(Date.now() + 1000),
        type: 'customer.apply',
        payload: { router: 'core', customer },
      },
      other,
    );
    expect(openCommandFrame(f, ctx)).to.include({ ok: false, reason: 'bad-signature' });
  });
  it('rejects a tampered payload', () => {
    const f = frame();
    (f.envelope.payload as { router: string }).router = 'edge';
    expect(openCommandFrame(f, ctx)).to.include({ ok: false, reason: 'bad-signature' });
  });
  it("rejects another agent's envelope", () => {
    expect(openCommandFrame(frame({ agentId: 'agent-2' }), ctx)).to.include({ ok: false, reason: 'wrong-agent' });
  });
  it('rejects an expired envelope', () => {
    expect(openCommandFrame(frame({ expiresAt: new Date(Date.now() - 1) }), ctx)).to.include({ ok: false, reason: 'expired' });
  });
  it('rejects a replayed or old seq', () => {
    expect(openCommandFrame(frame({ seq: 4 }), ctx)).to.include({ ok: false, reason: 'replayed-seq' });
    expect(openCommandFrame(frame({ seq: 1 }), ctx)).to.include({ ok: false, reason: 'replayed-seq' });
  });
  it('rejects an unknown type even when signed', () => {
    expect(openCommandFrame(frame({ type: 'system.script' }), ctx)).to.include({ ok: false, reason: 'unknown-type' });
  });
  it('rejects extra fields even when signed', () => {
    const env = { ...frame().envelope, shell: 'reboot' };
    const forged = { kind: 'command' as const, envelope: env, sig: signEnvelope(env, controllerPriv) };
    expect(openCommandFrame(forged, ctx)).to.include({ ok: false, reason: 'extra-fields' });
  });
  it('rejects an unknown version', () => {
    const env = { ...frame().envelope, v: 2 };
    const forged = { kind: 'command' as const, envelope: env, sig: signEnvelope(env, controllerPriv) };
    expect(openCommandFrame(forged, ctx)).to.include({ ok: false, reason: 'unknown-version' });
  });
  it('rejects a payload that does not match its type', () => {
    expect(openCommandFrame(frame({ payload: { router: 'core', customer: { ...customer, username: 'a;b' } } }), ctx)).to.include({
      ok: false,
      reason: 'bad-payload',
    });
  });
});

describe('command batches', () => {
  const fields = (seq: number, overrides: Partial<{ agentId: string; expiresAt: Date }> = {}) => ({
    id: randomUUID(),
    agentId: overrides.agentId ?? 'agent-1',
    seq,
    issuedAt: new Date(),
    expiresAt: overrides.expiresAt ?? new Date(Date.now() + 60_000),
    type: 'customer.apply' as const,
    payload: { router: 'core', customer },
  });
  const open = (text: string) => openCommandBatch(JSON.parse(text) as unknown, controllerPub);

  it('opens with one signature, and each envelope then passes the checks of a single command', () => {
    const batch = [fields(5), fields(6), fields(7)];
    const opened = open(sealCommandBatchText(batch, controllerPriv));
    if (!opened.ok) throw new Error(opened.detail);
    let lastSeq = 4;
    for (const [i, env] of opened.envelopes.entries()) {
      const checked = checkEnvelope(env, { agentId: 'agent-1', lastSeq });
      if (!checked.ok) throw new Error(checked.detail);
      expect(checked.envelope).to.include({ id: batch[i]!.id, seq: batch[i]!.seq });
      lastSeq = checked.envelope.seq;
    }
  });
  it('refuses every envelope of a batch whose signature does not verify, each named for its ack', () => {
    const batch = [fields(5), fields(6)];
    const tampered = sealCommandBatchText(batch, controllerPriv).replace('"router":"core"', '"router":"edge"');
    const opened = open(tampered);
    expect(opened).to.include({ ok: false, reason: 'bad-signature' });
    expect(opened.ok ? [] : opened.refusals.map((r) => [r.id, r.seq, r.reason])).to.deep.equal([
      [batch[0]!.id, 5, 'bad-signature'],
      [batch[1]!.id, 6, 'bad-signature'],
    ]);
    const other = loadPrivateKey(generateSigningKeys().privateKey);
    expect(open(sealCommandBatchText(batch, other))).to.include({ ok: false, reason: 'bad-signature' });
  });
  it('a single command signature never passes for a batch, nor a batch signature for a single command', () => {
    const one = fields(5);
    const single = sealCommand(one, controllerPriv);
    expect(openCommandBatch({ kind: 'commands', envelopes: [single.envelope], sig: single.sig }, controllerPub)).to.include({
      ok: false,
      reason: 'bad-signature',
    });
    const batch = JSON.parse(sealCommandBatchText([one], controllerPriv)) as { envelopes: Record<string, unknown>[]; sig: string };
    expect(openCommandFrame({ kind: 'command', envelope: batch.envelopes[0], sig: batch.sig }, ctx)).to.include({ ok: false, reason: 'bad-signature' });
  });
  it('checks each envelope of a signed batch on its own: addressee, validity, seq', () => {
    const batch = [fields(5, { agentId: 'agent-2' }), fields(6, { expiresAt: new Date(Date.now() - 1000) }), fields(4), fields(8)];
    const opened = open(sealCommandBatchText(batch, controllerPriv));
    if (!opened.ok) throw new Error(opened.detail);
    const reasons = opened.envelopes.map((env) => {
      const checked = checkEnvelope(env, { agentId: 'agent-1', lastSeq: 4 });
      return checked.ok ? 'ok' : checked.reason;
    });
    expect(reasons).to.deep.equal(['wrong-agent', 'expired', 'replayed-seq', 'ok']);
  });
  it('refuses a frame that is not a batch: no envelopes, too many, or extra fields', () => {
    expect(openCommandBatch({ kind: 'commands', envelopes: [], sig: 'x' }, controllerPub)).to.include({ ok: false, reason: 'malformed' });
    const many = Array.from({ length: 257 }, () => ({}));
    expect(openCommandBatch({ kind: 'commands', envelopes: many, sig: 'x' }, controllerPub)).to.include({ ok: false, reason: 'malformed' });
    const text = JSON.parse(sealCommandBatchText([fields(5)], controllerPriv)) as Record<string, unknown>;
    expect(openCommandBatch({ ...text, extra: 1 }, controllerPub)).to.include({ ok: false, reason: 'malformed' });
    expect(openCommandBatch(null, controllerPub)).to.include({ ok: false, reason: 'malformed' });
  });
});
