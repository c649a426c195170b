import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { AGENT_AUTH_HEADERS, AckMessage, agentAuthChallenge, identityOf, type CommandIdentity } from '../src/index.ts';
import { generateSigningKeys, loadPrivateKey, loadPublicKey, openCommandFrame, readAgentAuth, sealCommand, signText } from '../src/signing.ts';

const keys = generateSigningKeys();
const priv = loadPrivateKey(keys.privateKey);
const pub = loadPublicKey(keys.publicKey);
const customer = {
  customerId: 'c1',
  connectionType: 'pppoe',
  username: 'jane',
  password: 'pw',
  status: 'active',
  plan: { planId: 'p1', name: 'Home 10M', connectionType: 'pppoe', uploadSpeed: '5M', downloadSpeed: '10M' },
};
const seal = (job?: CommandIdentity, payload: unknown = { router: 'core', customer }) =>
  sealCommand(
    {
      id: 'j42-3-ab12cd34',
      agentId: 'agent-1',
      seq: 5,
      issuedAt: new Date(),
      expiresAt: new Date(Date.now() + 60_000),
      type: 'customer.apply',
      payload,
      ...(job ? { job } : {}),
    },
    priv,
  );
const ctx = { controllerKey: pub, agentId: 'agent-1', lastSeq: 4 };

describe('command identity (job, attempt, chunk)', () => {
  it('travels signed in the envelope and comes out of openCommandFrame as sent', () => {
    const opened = openCommandFrame(seal({ jobId: '42', attempt: 3, chunk: { index: 1, count: 4 } }), ctx);
    expect(opened.ok && opened.envelope.job).to.deep.equal({ jobId: '42', attempt: 3, chunk: { index: 1, count: 4 } });
  });

  it('cannot be changed without breaking the signature', () => {
    const frame = seal({ jobId: '42', attempt: 3 });
    (frame.envelope.job as CommandIdentity).jobId = '43';
    expect(openCommandFrame(frame, ctx)).to.include({ ok: false, reason: 'bad-signature' });
  });

  it('is refused when malformed, like every other envelope field', () => {
    const opened = openCommandFrame(seal({ jobId: 'x', attempt: 0 } as CommandIdentity), ctx);
    expect(opened).to.include({ ok: false, reason: 'malformed' });
  });

  it('takes fresh on customer.apply, and nothing else new', () => {
    expect(openCommandFrame(seal(undefined, { router: 'core', customer, fresh: true }), ctx).ok).to.equal(true);
    expect(openCommandFrame(seal(undefined, { router: 'core', customer, fresh: false }), ctx)).to.include({ ok: false, reason: 'bad-payload' });
    expect(openCommandFrame(seal(undefined, { router: 'core', customer, brandNew: true }), ctx)).to.include({ ok: false, reason: 'bad-payload' });
  });

  it('is echoed in acks', () => {
    const ack = {
      type: 'ack',
      agentId: 'agent-1',
      commandId: 'j42-3-ab12cd34',
      job: { jobId: '42', attempt: 3 },
      seq: 5,
      status: 'applied',
      durationMs: 3,
      at: new Date().toISOString(),
    };
    expect(AckMessage.parse(ack).job).to.deep.equal({ jobId: '42', attempt: 3 });
  });

  it('prefers the explicit identity, and reads an older controller id in one place', () => {
    expect(identityOf('anything', { jobId: '7', attempt: 1 })).to.deep.equal({ jobId: '7', attempt: 1 });
    expect(identityOf('j42-3-ab12cd34')).to.deep.equal({ jobId: '42', attempt: 3 });
    expect(identityOf('j42-3-ab12cd34.2')).to.deep.equal({ jobId: '42', attempt: 3, chunk: { index: 2, count: 0 } });
    expect(identityOf('cmd-1')).to.equal(undefined);
  });
});

describe('the agent upgrade check (readAgentAuth)', () => {
  const headers = (over: Record<string, string | undefined> = {}, key = priv) => {
    const agentId = over.agentId ?? 'agent-1';
    const timestamp = over.timestamp ?? new Date().toISOString();
    const nonce = over.nonce ?? randomBytes(18).toString('base64url');
    const h: Record<string, string | undefined> = {
      [AGENT_AUTH_HEADERS.agentId]: agentId,
      [AGENT_AUTH_HEADERS.timestamp]: timestamp,
      [AGENT_AUTH_HEADERS.nonce]: nonce,
      [AGENT_AUTH_HEADERS.signature]: signText(agentAuthChallenge(agentId, timestamp, nonce), key),
    };
    for (const [k, v] of Object.entries(over)) if (k.startsWith('x-')) h[k] = v;
    return h;
  };

  it('accepts a fresh, well-formed, signed challenge and hands back the claim', () => {
    const read = readAgentAuth(headers());
    expect(read.ok).to.equal(true);
    if (read.ok) {
      expect(read.claim.agentId).to.equal('agent-1');
      expect(read.claim.verify(pub)).to.equal(true);
      expect(read.claim.verify(loadPublicKey(generateSigningKeys().publicKey))).to.equal(false);
    }
  });

  it('names what is wrong: missing headers, a short nonce, a clock too far off', () => {
    expect(readAgentAuth({ ...headers(), [AGENT_AUTH_HEADERS.signature]: undefined })).to.deep.equal({ ok: false, reason: 'missing agent credentials' });
    expect(readAgentAuth(headers({ nonce: randomBytes(8).toString('base64url') }))).to.deep.equal({ ok: false, reason: 'malformed agent credentials' });
    expect(readAgentAuth(headers({ timestamp: new Date(Date.now() - 120_000).toISOString() }))).to.deep.equal({
      ok: false,
      reason: 'stale or future timestamp (check the clock)',
    });
    expect(readAgentAuth(headers({ timestamp: 'yesterday' }))).to.deep.equal({ ok: false, reason: 'stale or future timestamp (check the clock)' });
  });

  it('a signature over another nonce does not verify', () => {
    const h = headers();
    h[AGENT_AUTH_HEADERS.nonce] = randomBytes(18).toString('base64url');
    const read = readAgentAuth(h);
    expect(read.ok && read.claim.verify(pub)).to.equal(false);
  });
});
