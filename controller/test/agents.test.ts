import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { AGENT_AUTH_HEADERS, agentAuthChallenge } from '@mtandao/protocol';
import { generateSigningKeys, loadPrivateKey, signAgentMessage, signText } from '@mtandao/protocol/signing';
import { ApiClient, expectStatus } from './helpers/client.ts';
import { ADMIN_PASSWORD, startTestController } from './helpers/controller.ts';
import { Fixtures } from './helpers/fixtures.ts';

type Body = Record<string, unknown>;

describe('agents: enrolment and the /agent endpoint', () => {
  let controller: Awaited<ReturnType<typeof startTestController>>;
  let api: ApiClient;
  let siteId: string;
  const keys = generateSigningKeys();
  const key = loadPrivateKey(keys.privateKey);
  let agentId: string;

  before(async () => {
    controller = await startTestController({ MTANDAO_HEARTBEAT_SECONDS: '0.5' });
    api = await new ApiClient(controller.url).login('admin', ADMIN_PASSWORD);
    siteId = (await new Fixtures(api).site()).id as string;
  });
  after(async () => controller.stop());

  const token = async () => (expectStatus(await api.post(`/sites/${siteId}/enrollment-tokens`), 201) as { token: string; command: string }).token;
  const enroll = (t: string, publicKey = keys.publicKey) =>
    new ApiClient(controller.url).post('/agents/enroll', { token: t, publicKey, hostname: 'pi-kisumu', agentVersion: '0.1.0' });

  describe('enrolment', () => {
    it('trades a one-time token and a public key for an identity, and gives the command to run', async () => {
      const created = expectStatus(await api.post(`/sites/${siteId}/enrollment-tokens`), 201) as { token: string; command: string; expiresAt: string };
      expect(created.command).to.equal(`mtandao-agent enroll --controller ${controller.config.publicUrl} --token ${created.token}`);
      expect(Date.parse(created.expiresAt) - Date.now()).to.be.closeTo(3_600_000, 60_000);
      const res = expectStatus(await enroll(created.token), 200) as Body;
      expect(res).to.include({ siteId });
      expect(res.agentId).to.match(/^agt_[0-9a-f]{24}$/);
      expect(res.controllerPublicKey).to.match(/BEGIN PUBLIC KEY/);
      expect(res.websocketUrl).to.equal(`${controller.config.publicUrl.replace('http', 'ws')}/agent`);
      agentId = res.agentId as string;
    });

    it('refuses a token twice, an unknown one, and an expired one with one message', async () => {
      const t = await token();
      expectStatus(await enroll(t, generateSigningKeys().publicKey), 200);
      const again = await enroll(t, generateSigningKeys().publicKey);
      expect(again.status).to.equal(401);
      expect(((again.body as Body).error as Body).message).to.equal('Enrollment token is invalid, expired or already used');
      expect((await enroll(`enr_${randomBytes(24).toString('base64url')}`)).status).to.equal(401);
      const old = await token();
      await controller.services.db.exec(`UPDATE enrollment_tokens SET expires_at = now() - interval '1 minute' WHERE used_at IS NULL`);
      expect((await enroll(old)).status).to.equal(401);
      // the previous agent of the site was retired by the re-enrolment: enrol the one the tests use again
      const fresh = await token();
      agentId = (expectStatus(await enroll(fresh), 200) as Body).agentId as string;
    });

    it('names a public key that is not Ed25519', async () => {
      const res = await enroll(await token(), '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----');
      expect(res.status).to.equal(422);
      expect((res.body as Body).error).to.include({ field: 'publicKey' });
    });
  });

  describe('the WebSocket upgrade', () => {
    function dial(
      overrides: Partial<Record<'agentId' | 'timestamp' | 'nonce' | 'signature', string>> = {},
      signWith = key,
    ): Promise<{ ws?: WebSocket; status?: number }> {
      const ts = overrides.timestamp ?? new Date().toISOString();
      const nonce = overrides.nonce ?? randomBytes(18).toString('base64url');
      const id = overrides.agentId ?? agentId;
      const headers = {
        [AGENT_AUTH_HEADERS.agentId]: id,
        [AGENT_AUTH_HEADERS.timestamp]: ts,
        [AGENT_AUTH_HEADERS.nonce]: nonce,
        [AGENT_AUTH_HEADERS.signature]: overrides.signature ?? signText(agentAuthChallenge(id, ts, nonce), signWith),
      };
      return new Promise((resolve) => {
        const ws = new WebSocket(`${controller.url.replace('http', 'ws')}/agent`, { headers });
        ws.once('open', () => resolve({ ws }));
        ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode }));
        ws.once('error', () => resolve({}));
      });
    }

    it('accepts a fresh signed challenge', async () => {
      const { ws } = await dial();
      expect(ws?.readyState).to.equal(WebSocket.OPEN);
      ws!.close();
    });

    it('answers 401 before any WebSocket exists: bad signature, unknown agent, stale time, replayed nonce', async () => {
      expect((await dial({}, loadPrivateKey(generateSigningKeys().privateKey))).status).to.equal(401);
      expect((await dial({ agentId: 'agt_000000000000000000000000' })).status).to.equal(401);
      expect((await dial({ timestamp: new Date(Date.now() - 5 * 60_000).toISOString() })).status).to.equal(401);
      const nonce = randomBytes(18).toString('base64url');
      const first = await dial({ nonce });
      expect(first.ws).to.not.equal(undefined);
      first.ws!.close();
      expect((await dial({ nonce })).status).to.equal(401);
      const noHeaders = await new Promise<number | undefined>((resolve) => {
        const ws = new WebSocket(`${controller.url.replace('http', 'ws')}/agent`);
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode));
        ws.once('error', () => resolve(undefined));
      });
      expect(noHeaders).to.equal(401);
    });

    it('closes a connection that sends an oversized frame', async () => {
      const { ws } = await dial();
      const closed = new Promise<number>((resolve) => ws!.once('close', (code) => resolve(code)));
      ws!.send('x'.repeat(300 * 1024));
      expect(await closed).to.equal(1009);
    });

    it('ignores frames that are not signed by the agent', async () => {
      const { ws } = await dial();
      const other = loadPrivateKey(generateSigningKeys().privateKey);
      const hello = { type: 'hello', agentId, agentVersion: '9.9.9', capability: 1, lastSeq: 0, routers: [], sentAt: new Date().toISOString() };
      ws!.send(JSON.stringify({ msg: hello, sig: signAgentMessage(hello, other) }));
      await new Promise((r) => setTimeout(r, 200));
      const agent = (await controller.services.db.rows<{ version: string | null }>('SELECT version FROM agents WHERE id = $1', [agentId]))[0]!;
      expect(agent.version).to.not.equal('9.9.9');
      ws!.send(JSON.stringify({ msg: hello, sig: signAgentMessage(hello, key) }));
      await new Promise((r) => setTimeout(r, 200));
      expect((await controller.services.db.rows<{ version: string }>('SELECT version FROM agents WHERE id = $1', [agentId]))[0]!.version).to.equal('9.9.9');
      ws!.close();
    });

    it('drops a peer that stops answering pings within two heartbeat intervals', async () => {
      const { ws } = await dial();
      await new Promise((r) => setTimeout(r, 100));
      expect(controller.hub.sessions.has(agentId)).to.equal(true);
      const started = Date.now();
      // stop reading: pings go unanswered
      (ws as unknown as { _socket: { pause(): void } })._socket.pause();
      while (controller.hub.sessions.has(agentId)) await new Promise((r) => setTimeout(r, 20));
      // heartbeat 0.5 s: silent for two intervals, noticed at the next (jittered) check
      expect(Date.now() - started).to.be.lessThan(3 * 0.5 * 1000 * 1.2 + 500);
      ws!.terminate();
    });
  });
});
