import { expect } from 'chai';
import { ApiClient, expectStatus } from '../helpers/client.ts';
import { ADMIN_PASSWORD, startTestController } from '../helpers/controller.ts';
import { usingEmbedded } from '../helpers/database.ts';
import { allApplied, eventually, startStack, type Stack } from '../helpers/stack.ts';

type Body = Record<string, unknown>;
type Controller = Stack['controller'];

const secretOf = (stack: Stack, username: string) => stack.sim.store.list('/ppp/secret').find((s) => s.name === username);
const rows = <T>(c: Controller, sql: string, bind: unknown[] = []) => c.services.db.rows<T>(sql, bind);

/** Messages of a kind for a customer. */
const smsOf = (c: Controller, customerId: string, kind: string) =>
  rows<{ id: string; body: string; status: string; dedupe_key: string }>(c, 'SELECT id, body, status, dedupe_key FROM sms_messages WHERE customer_id = $1 AND kind = $2 ORDER BY id', [customerId, kind]);

describe('expiry engine', function () {
  this.timeout(90_000);

  describe('one controller with the emulated router', () => {
    let stack: Stack;
    let minutePlan: Body;
    before(async () => {
      stack = await startStack({ env: { MTANDAO_EXPIRY_SWEEP_SECONDS: '1', MTANDAO_SMS_POLL_MS: '200' } });
      await stack.startAgentInProcess();
      await allApplied(stack.api);
      minutePlan = expectStatus(
        await stack.api.post('/plans', { name: 'One Minute', connectionType: 'pppoe', price: '10', downloadSpeed: '2M', uploadSpeed: '1M', validity: { count: 1, unit: 'minutes' }, poolIds: [stack.world.pppoePool.id] }),
        201,
      ) as Body;
    });
    after(async () => stack.stop());

    it('blocks a customer on a 1-minute plan within 60 s of expiry, with the expired SMS in the outbox once', async () => {
      const c = expectStatus(await stack.api.post('/customers', stack.fx.customerBody(minutePlan.id as string, { ipAddress: '10.64.9.1', username: 'minute.man' })), 201) as Body;
      const expiresAt = new Date(c.expiresAt as string).getTime();
      expect(expiresAt - Date.now()).to.be.within(50_000, 61_000);
      await eventually(async () => (secretOf(stack, 'minute.man')?.disabled === 'false' ? true : undefined), 'the customer enabled on the router');
      // no fixed sleep: poll the router until the secret is disabled, with a deadline 60 s past expiry
      await eventually(async () => (secretOf(stack, 'minute.man')?.disabled === 'true' ? true : undefined), 'the customer blocked on the router', expiresAt + 60_000 - Date.now());
      const blockedAfter = Date.now() - expiresAt;
      expect(blockedAfter, 'ms from expiry to blocked').to.be.lessThan(60_000);
      const view = expectStatus(await stack.api.get(`/customers/${c.id}`), 200) as Body;
      expect(view.status).to.equal('expired');
      // more sweeps change nothing
      await stack.controller.services.expiry.sweep();
      await stack.controller.services.expiry.sweep();
      const notices = await smsOf(stack.controller, c.id as string, 'expired');
      expect(notices).to.have.length(1);
      expect(notices[0]!.body).to.match(/expired on/);
      const audits = await rows<{ n: string }>(stack.controller, `SELECT count(*) AS n FROM audit_log WHERE action = 'customer.expire' AND entity_id = $1`, [c.id]);
      expect(Number(audits[0]!.n)).to.equal(1);
      const jobs = expectStatus(await stack.api.get(`/provisioning/jobs?customerId=${c.id}`), 200) as { items: Body[] };
      expect(jobs.items.filter((j) => j.reason === 'subscription expired')).to.have.length(1);
    });

    it('catches up after a day down: every customer long past expiry is expired in one sweep', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((expectStatus(await stack.api.post('/customers', stack.fx.customerBody(stack.world.pppoe.id as string, { ipAddress: `10.64.9.${20 + i}` })), 201) as Body).id as string);
      await stack.controller.services.expiry.stop(); // "down"
      await stack.controller.services.db.exec(`UPDATE customers SET expires_at = now() - interval '1 day' WHERE id = ANY($1::bigint[])`, [ids]);
      const r = await stack.controller.services.expiry.sweep();
      expect(r.expired).to.be.at.least(5);
      const statuses = await rows<{ status: string }>(stack.controller, 'SELECT status FROM customers WHERE id = ANY($1::bigint[])', [ids]);
      expect(statuses.map((s) => s.status)).to.deep.equal(Array(5).fill('expired'));
      for (const id of ids) expect(await smsOf(stack.controller, id, 'expired')).to.have.length(1);
    });
  });

  describe('reminders', () => {
    it('sends a reminder N days before expiry once per period, not again after a restart', async () => {
      let controller = await startTestController({ MTANDAO_EXPIRY_SWEEP_SECONDS: '60' });
      try {
        const api = await new ApiClient(controller.url).login('admin', ADMIN_PASSWORD);
        const { Fixtures } = await import('../helpers/fixtures.ts');
        const fx = new Fixtures(api);
        const world = await fx.world();
        const c = expectStatus(await api.post('/customers', fx.customerBody(world.pppoe.id as string, { ipAddress: '10.64.9.50', fullName: 'Wanjiku Kamau' })), 201) as Body;
        await controller.services.db.exec(`UPDATE customers SET expires_at = now() + interval '2 days' WHERE id = $1`, [c.id]);
        await controller.services.expiry.sweep();
        await controller.services.expiry.sweep();
        let reminders = await smsOf(controller, c.id as string, 'reminder');
        expect(reminders).to.have.length(1);
        expect(reminders[0]!.body).to.match(/^Dear Wanjiku, your .* expires on/);
        expect(reminders[0]!.dedupe_key).to.match(/:3$/);

        const { config } = controller;
        await controller.stop();
        controller = await startTestController({ MTANDAO_EXPIRY_SWEEP_SECONDS: '60' }, { databaseUrl: config.databaseUrl! });
        await controller.services.expiry.sweep();
        reminders = await smsOf(controller, c.id as string, 'reminder');
        expect(reminders, 'no second 3-day reminder after the restart').to.have.length(1);

        // a day before expiry: the 1-day reminder, once
        await controller.services.db.exec(`UPDATE customers SET expires_at = (SELECT expires_at FROM customers WHERE id = $1) - interval '1 day 2 hours' WHERE id = $1`, [c.id]);
        await controller.services.expiry.sweep();
        await controller.services.expiry.sweep();
        reminders = await smsOf(controller, c.id as string, 'reminder');
        expect(reminders.map((r) => r.dedupe_key.split(':').at(-1))).to.deep.equal(['3', '1']);
      } finally {
        await controller.stop();
      }
    });
  });

  describe('two controller instances on one database', () => {
    it('expire each customer exactly once, led by one of them', async function () {
      if (usingEmbedded()) this.skip(); // PGlite is a single-backend database: one controller at a time
      const env = { MTANDAO_EXPIRY_SWEEP_SECONDS: '0.2' };
      const a = await startTestController(env);
      const b = await startTestController(env, { databaseUrl: a.config.databaseUrl! });
      try {
        const api = await new ApiClient(a.url).login('admin', ADMIN_PASSWORD);
        const { Fixtures } = await import('../helpers/fixtures.ts');
        const fx = new Fixtures(api);
        const world = await fx.world();
        const ids: string[] = [];
        for (let i = 0; i < 20; i++) ids.push((expectStatus(await api.post('/customers', fx.customerBody(world.pppoe.id as string, { ipAddress: `10.64.10.${i + 2}` })), 201) as Body).id as string);
        await a.services.db.exec(`UPDATE customers SET expires_at = now() + interval '1 second' WHERE id = ANY($1::bigint[])`, [ids]);
        // both instances sweep every 200 ms meanwhile; direct sweeps from both race as well
        await Promise.all([a.services.expiry.sweep(), b.services.expiry.sweep()]);
        await eventually(async () => {
          const left = await rows<{ n: string }>(a, `SELECT count(*) AS n FROM customers WHERE id = ANY($1::bigint[]) AND status <> 'expired'`, [ids]);
          return Number(left[0]!.n) === 0 ? true : undefined;
        }, 'every customer expired', 20_000);
        await Promise.all([a.services.expiry.sweep(), b.services.expiry.sweep(), a.services.expiry.sweep(), b.services.expiry.sweep()]);
        expect([a.services.expiry.isLeader, b.services.expiry.isLeader].filter(Boolean), 'one leader').to.have.length(1);
        const audits = await rows<{ entity_id: string; n: string }>(a, `SELECT entity_id, count(*) AS n FROM audit_log WHERE action = 'customer.expire' AND entity_id = ANY($1::text[]) GROUP BY entity_id`, [ids]);
        expect(audits).to.have.length(20);
        expect(audits.every((r) => Number(r.n) === 1)).to.equal(true);
        const jobs = await rows<{ n: string }>(a, `SELECT count(*) AS n FROM provisioning_jobs WHERE reason = 'subscription expired' AND customer_id = ANY($1::bigint[])`, [ids]);
        expect(Number(jobs[0]!.n)).to.equal(20);
        const sms = await rows<{ n: string }>(a, `SELECT count(*) AS n FROM sms_messages WHERE kind = 'expired' AND customer_id = ANY($1::bigint[])`, [ids]);
        expect(Number(sms[0]!.n)).to.equal(20);
      } finally {
        await b.stop();
        await a.stop();
      }
    });
  });
});
