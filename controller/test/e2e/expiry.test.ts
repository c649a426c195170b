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
  rows<{ id: string; body: string; status: string; dedupe_key: string }>(
    c,
    'SELECT id, body, status, dedupe_key FROM sms_messages WHERE customer_id = $1 AND kind = $2 ORDER BY id',
    [customerId, kind],
  );

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
        await stack.api.post('/plans', {
          name: 'One Minute',
          connectionType: 'pppoe',
          price: '10',
          downloadSpeed: '2M',
          uploadSpeed: '1M',
          validity: { count: 1, unit: 'minutes' },
          poolIds: [stack.world.pppoePool.id],
        }),
        201,
      ) as Body;
    });
    after(async () => stack.stop());

    it('blocks a customer on a 1-minute plan within 60 s of expiry, with the expired SMS in the outbox once', async () => {
      const c = expectStatus(
        await stack.api.post('/customers', stack.fx.customerBody(minutePlan.id as string, { ipAddress: '10.64.9.1', username: 'minute.man' })),
        201,
      ) as Body;
      const expiresAt = new Date(c.expiresAt as string).getTime();
      expect(expiresAt - Date.now()).to.be.within(50_000, 61_000);
      await eventually(async () => (secretOf(stack, 'minute.man')?.disabled === 'false' ? true : undefined), 'the customer enabled on the router');
      // no fixed sleep: poll the router until the secret is disabled, with a deadline 60 s past expiry
      await eventually(
        async () => (secretOf(stack, 'minute.man')?.disabled === 'true' ? true : undefined),
        'the customer blocked on the router',
        expiresAt + 60_000 - Date.now(),
      );
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
      const audits = await rows<{ n: string }>(stack.controller, `SELECT count(*) AS n FROM audit_log WHERE action = 'customer.expire' AND entity_id = $1`, [
        c.id,
      ]);
      expect(Number(audits[0]!.n)).to.equal(1);
      const jobs = expectStatus(await stack.api.get(`/provisioning/jobs?customerId=${c.id}`), 200) as { items: Body[] };
      expect(jobs.items.filter((j) => j.reason === 'subscription expired')).to.have.length(1);
    });

    it('catches up after a day down: every customer long past expiry is expired in one sweep', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++)
        ids.push(
          (
            expectStatus(
              await stack.api.post('/customers', stack.fx.customerBody(stack.world.pppoe.id as string, { ipAddress: `10.64.9.${20 + i}` })),
              201,
            ) as Body
          ).id as string,
        );
      await stack.controller.services.expiry.stop(); // "down"
      await stack.controller.services.db.exec(`UPDATE customers SET expires_at = now() - interval '1 day' WHERE id = ANY($1::bigint[])`, [ids]);
      const r = await stack.controller.services.expiry.sweep();
      expect(r.expired).to.be.at.least(5);
      const statuses = await rows<{ status: string }>(stack.controller, 'SELECT status FROM customers WHERE id = ANY($1::bigint[])', [ids]);
      expect(statuses.map((s) => s.status)).to.deep.equal(Array(5).fill('expired'));
      for (const id of ids) expect(await smsOf(stack.controller, id, 'expired')).to.have.length(1);
    });
  });

  describe('auto-renewal from the balance', () => {
    let controller: Controller;
    let api: ApiClient;
    let world: Awaited<ReturnType<import('../helpers/fixtures.ts').Fixtures['world']>>;
    let fx: import('../helpers/fixtures.ts').Fixtures;
    before(async function () {
      this.timeout(120_000);
      controller = await startTestController({ MTANDAO_EXPIRY_SWEEP_SECONDS: '60' });
      api = await new ApiClient(controller.url).login('admin', ADMIN_PASSWORD);
      const { Fixtures } = await import('../helpers/fixtures.ts');
      fx = new Fixtures(api);
      world = await fx.world(); // the hotspot plan: 1 day for 50.00
    });
    after(async () => controller.stop());

    /** A hotspot customer with `credit` on account whose expiry was `ago` ago. */
    const hotspot = async (credit: string, ago: string) => {
      const c = expectStatus(await api.post('/customers', fx.customerBody(world.hotspot.id as string, { connectionType: 'hotspot' })), 201) as Body;
      expectStatus(await api.post(`/customers/${c.id}/payments`, { kind: 'adjustment', amount: credit, note: 'test credit' }), 201);
      const [row] = await rows<{ expires_at: Date }>(controller, `UPDATE customers SET expires_at = now() - $2::interval WHERE id = $1 RETURNING expires_at`, [
        c.id,
        ago,
      ]);
      return { id: c.id as string, oldExpiry: new Date(row!.expires_at) };
    };
    const charges = (id: string) =>
      rows<{ amount_minor: string; balance_after_minor: string; period_start: Date; period_end: Date; plan_id: string }>(
        controller,
        `SELECT amount_minor::text, balance_after_minor::text, period_start, period_end, plan_id::text FROM ledger_entries WHERE customer_id = $1 AND kind = 'plan' AND note LIKE 'auto-renewed%' ORDER BY id`,
        [id],
      );
    const customer = async (id: string) =>
      (
        await rows<{ status: string; expires_at: Date; balance_minor: string; plan_id: string; next_plan_id: string | null }>(
          controller,
          'SELECT status, expires_at, balance_minor::text, plan_id::text, next_plan_id::text FROM customers WHERE id = $1',
          [id],
        )
      )[0]!;

    it('renews one period from the old expiry when the balance covers the price, instead of expiring', async () => {
      const c = await hotspot('70', '5 seconds');
      await controller.services.expiry.sweep();
      const after = await customer(c.id);
      expect(after.status).to.equal('active');
      expect(new Date(after.expires_at).getTime()).to.equal(c.oldExpiry.getTime() + 86_400_000);
      expect(after.balance_minor).to.equal('2000');
      const ch = await charges(c.id);
      expect(ch).to.have.length(1);
      expect(ch[0]).to.include({ amount_minor: '5000', balance_after_minor: '2000' });
      expect(new Date(ch[0]!.period_start).getTime()).to.equal(c.oldExpiry.getTime());
      expect(await smsOf(controller, c.id, 'expired')).to.have.length(0);
      const audits = await rows<{ details: Body }>(controller, `SELECT details FROM audit_log WHERE action = 'customer.auto-renew' AND entity_id = $1`, [c.id]);
      expect(audits).to.have.length(1);
      expect(audits[0]!.details).to.include({ periods: 1, charged: '50.00' });
      // a second sweep does nothing more
      await controller.services.expiry.sweep();
      expect(await charges(c.id)).to.have.length(1);
    });

    it('switches to the plan scheduled for the next renewal, at its price', async () => {
      const { Fixtures } = await import('../helpers/fixtures.ts');
      const bigger = await new Fixtures(api).plan(
        'hotspot',
        { routerIds: [world.router.id as string] },
        { sharedUsers: 2, validity: { count: 2, unit: 'days' }, price: '80' },
      );
      const c = await hotspot('100', '1 second');
      await controller.services.db.exec('UPDATE customers SET next_plan_id = $2 WHERE id = $1', [c.id, bigger.id]);
      await controller.services.expiry.sweep();
      const after = await customer(c.id);
      expect(after).to.include({ status: 'active', plan_id: bigger.id, next_plan_id: null, balance_minor: '2000' });
      expect(new Date(after.expires_at).getTime()).to.equal(c.oldExpiry.getTime() + 2 * 86_400_000);
      const ch = await charges(c.id);
      expect(ch.map((x) => [x.amount_minor, x.plan_id])).to.deep.equal([['8000', bigger.id]]);
      const jobs = await rows<{ type: string; reason: string }>(
        controller,
        `SELECT type, reason FROM provisioning_jobs WHERE customer_id = $1 AND reason LIKE 'auto-renewed%'`,
        [c.id],
      );
      expect(jobs.map((j) => j.type)).to.deep.equal(['customer.apply']);
    });

    it('catches up after two days down: period by period from the old expiry while the balance covers, then expires', async () => {
      const covered = await hotspot('200', '2 days 1 hour'); // 3 periods needed to reach now, 4 affordable
      const short = await hotspot('120', '2 days 1 hour'); // 3 needed, 2 affordable
      await controller.services.expiry.sweep();
      const a = await customer(covered.id);
      expect(a.status).to.equal('active');
      expect(new Date(a.expires_at).getTime()).to.equal(covered.oldExpiry.getTime() + 3 * 86_400_000);
      expect(a.balance_minor).to.equal('5000');
      const ca = await charges(covered.id);
      expect(ca.map((x) => x.balance_after_minor)).to.deep.equal(['15000', '10000', '5000']);
      // continuous periods: each starts where the last ended
      for (let i = 1; i < ca.length; i++) expect(new Date(ca[i]!.period_start).getTime()).to.equal(new Date(ca[i - 1]!.period_end).getTime());
      const b = await customer(short.id);
      expect(b.status).to.equal('expired');
      expect(b.balance_minor).to.equal('2000');
      expect(new Date(b.expires_at).getTime()).to.equal(short.oldExpiry.getTime() + 2 * 86_400_000);
      expect(await charges(short.id)).to.have.length(2);
      expect(await smsOf(controller, short.id, 'expired')).to.have.length(1);
      // the ledger and the cached balance agree
      for (const id of [covered.id, short.id]) {
        const [sum] = await rows<{ s: string }>(
          controller,
          `SELECT sum(CASE WHEN side = 'credit' THEN amount_minor ELSE -amount_minor END)::text AS s FROM ledger_entries WHERE customer_id = $1`,
          [id],
        );
        expect(sum!.s).to.equal((await customer(id)).balance_minor);
      }
    });

    it("renews as the billing rule decideAtExpiry says, case by case (the sweep's SQL and the domain rule are one rule)", async () => {
      const { decideAtExpiry } = await import('../../src/domain/billing.ts');
      const settings = await controller.services.settings.billing();
      const month = await fx.plan('hotspot', { routerIds: [world.router.id as string] }, { validity: { count: 1, unit: 'months' }, price: '1000' });
      const cases: { plan: Body; credit: string; ago: string }[] = [
        { plan: world.hotspot, credit: '70', ago: '5 seconds' },
        { plan: world.hotspot, credit: '200', ago: '2 days 1 hour' },
        { plan: world.hotspot, credit: '100', ago: '3 days 1 hour' },
        { plan: world.hotspot, credit: '20', ago: '1 hour' },
        { plan: month, credit: '3000', ago: '40 days' },
        { plan: month, credit: '1000', ago: '75 days' },
      ];
      const made: { id: string; before: Awaited<ReturnType<typeof customer>>; plan: Body }[] = [];
      for (const k of cases) {
        const c = expectStatus(await api.post('/customers', fx.customerBody(k.plan.id as string, { connectionType: 'hotspot' })), 201) as Body;
        expectStatus(await api.post(`/customers/${c.id}/payments`, { kind: 'adjustment', amount: k.credit, note: 'test credit' }), 201);
        await rows(controller, `UPDATE customers SET expires_at = date_trunc('milliseconds', now() - $2::interval) WHERE id = $1`, [c.id, k.ago]);
        made.push({ id: c.id as string, before: await customer(c.id as string), plan: k.plan });
      }
      const now = new Date();
      await controller.services.expiry.sweep();
      for (const m of made) {
        const plan = expectStatus(await api.get(`/plans/${m.plan.id}`), 200) as {
          id: string;
          price: string;
          validity: { count: number; unit: 'minutes' | 'hours' | 'days' | 'months' };
        };
        const terms = {
          id: plan.id,
          priceMinor: BigInt(Math.round(Number(plan.price) * 100)),
          validityCount: plan.validity.count,
          validityUnit: plan.validity.unit,
        };
        const d = decideAtExpiry(
          { status: 'active', balanceMinor: BigInt(m.before.balance_minor), expiresAt: new Date(m.before.expires_at) },
          terms,
          settings,
          now,
        );
        const after = await customer(m.id);
        const label = `${m.plan.name} ${m.before.balance_minor} ${new Date(m.before.expires_at).toISOString()}: ${d.action}`;
        const ch = await charges(m.id);
        if (d.action === 'renew') {
          expect(after.status, label).to.equal(d.thenExpire ? 'expired' : 'active');
          expect(new Date(after.expires_at).toISOString(), label).to.equal(d.expiresAt.toISOString());
          expect(after.balance_minor, label).to.equal(d.balanceAfterMinor.toString());
          expect(
            ch.map((x) => [new Date(x.period_start).toISOString(), new Date(x.period_end).toISOString()]),
            label,
          ).to.deep.equal(d.charges.map((x) => [x.periodStart.toISOString(), x.periodEnd.toISOString()]));
        } else {
          expect(ch, label).to.have.length(0);
          expect(after.balance_minor, label).to.equal(m.before.balance_minor);
          expect(after.status, label).to.equal(d.action === 'expire' ? 'expired' : 'active');
        }
      }
    });

    it('expires instead when auto-renew is off', async () => {
      expectStatus(await api.request('PUT', '/settings/billing', { autoRenew: false }), 200);
      try {
        const c = await hotspot('100', '1 second');
        await eventually(async () => ((await controller.services.settings.billing()).autoRenew === false ? true : undefined), 'the setting read', 10_000);
        await controller.services.expiry.sweep();
        expect((await customer(c.id)).status).to.equal('expired');
        expect(await charges(c.id)).to.have.length(0);
      } finally {
        expectStatus(await api.request('PUT', '/settings/billing', { autoRenew: true }), 200);
      }
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
        const c = expectStatus(
          await api.post('/customers', fx.customerBody(world.pppoe.id as string, { ipAddress: '10.64.9.50', fullName: 'Wanjiku Kamau' })),
          201,
        ) as Body;
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
        await controller.services.db.exec(
          `UPDATE customers SET expires_at = (SELECT expires_at FROM customers WHERE id = $1) - interval '1 day 2 hours' WHERE id = $1`,
          [c.id],
        );
        // the restarted leader's own tick may hold the sweep lock at that moment: sweep until it lands, then once more
        const windows = async () => (await smsOf(controller, c.id as string, 'reminder')).map((r) => r.dedupe_key.split(':').at(-1));
        for (const until = Date.now() + 20_000; (await windows()).length < 2 && Date.now() < until;) await controller.services.expiry.sweep();
        await controller.services.expiry.sweep();
        expect(await windows()).to.deep.equal(['3', '1']);
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
        for (let i = 0; i < 20; i++)
          ids.push(
            (expectStatus(await api.post('/customers', fx.customerBody(world.pppoe.id as string, { ipAddress: `10.64.10.${i + 2}` })), 201) as Body)
              .id as string,
          );
        await a.services.db.exec(`UPDATE customers SET expires_at = now() + interval '1 second' WHERE id = ANY($1::bigint[])`, [ids]);
        // both instances sweep every 200 ms meanwhile; direct sweeps from both race as well
        await Promise.all([a.services.expiry.sweep(), b.services.expiry.sweep()]);
        await eventually(
          async () => {
            const left = await rows<{ n: string }>(a, `SELECT count(*) AS n FROM customers WHERE id = ANY($1::bigint[]) AND status <> 'expired'`, [ids]);
            return Number(left[0]!.n) === 0 ? true : undefined;
          },
          'every customer expired',
          20_000,
        );
        await Promise.all([a.services.expiry.sweep(), b.services.expiry.sweep(), a.services.expiry.sweep(), b.services.expiry.sweep()]);
        expect([a.services.expiry.isLeader, b.services.expiry.isLeader].filter(Boolean), 'one leader').to.have.length(1);
        const audits = await rows<{ entity_id: string; n: string }>(
          a,
          `SELECT entity_id, count(*) AS n FROM audit_log WHERE action = 'customer.expire' AND entity_id = ANY($1::text[]) GROUP BY entity_id`,
          [ids],
        );
        expect(audits).to.have.length(20);
        expect(audits.every((r) => Number(r.n) === 1)).to.equal(true);
        const jobs = await rows<{ n: string }>(
          a,
          `SELECT count(*) AS n FROM provisioning_jobs WHERE reason = 'subscription expired' AND customer_id = ANY($1::bigint[])`,
          [ids],
        );
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
