import { expect } from 'chai';
import pg from 'pg';
import type { DarajaFake } from '../../src/mpesa/fake/daraja-fake.ts';
import { ApiClient, expectStatus } from '../helpers/client.ts';
import { ADMIN_PASSWORD, startTestController } from '../helpers/controller.ts';
import { freshDatabase, usingEmbedded } from '../helpers/database.ts';
import { Fixtures } from '../helpers/fixtures.ts';
import { SHORTCODE, callback, confirmation, setUpMpesa, startFake } from '../helpers/mpesa.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';

type Body = Record<string, unknown>;

describe('M-Pesa end to end', () => {
  describe('a paybill payment through the Daraja fake', () => {
    let fake: DarajaFake;
    let stack: Stack;
    before(async () => {
      fake = await startFake();
      stack = await startStack({ env: { MTANDAO_DARAJA_URL: fake.url } });
      await stack.startAgentInProcess();
      await setUpMpesa(stack.api);
    });
    after(async () => {
      await stack?.stop();
      await fake?.stop();
    });

    it('renews an expired customer and re-enables them on the router', async () => {
      const { api, world } = stack;
      const c = expectStatus(
        await api.post(
          '/customers',
          stack.fx.customerBody(world.pppoe.id as string, { networkId: world.pppoeNetworkId, ipAddress: '10.64.2.20', username: 'mpesa.payer' }),
        ),
        201,
      ) as Body;
      const secret = () => stack.sim.store.list('/ppp/secret').find((s) => s.name === 'mpesa.payer');
      await eventually(async () => (secret()?.disabled === 'false' ? true : undefined), 'the secret on the router');
      // time runs out
      await stack.controller.services.db.exec(`UPDATE customers SET expires_at = now() - interval '1 minute' WHERE id = $1`, [c.id]);
      await stack.controller.services.expiry.sweep();
      await eventually(async () => (secret()?.disabled === 'true' ? true : undefined), 'the secret disabled');
      expect((expectStatus(await api.get(`/customers/${c.id}`), 200) as Body).status).to.equal('expired');

      const paid = await fake.payBill({ shortCode: SHORTCODE, account: c.accountNumber as string, amount: '1500.00' });
      expect(paid.confirmation).to.deep.include({ status: 200 });
      const after = expectStatus(await api.get(`/customers/${c.id}`), 200) as Body;
      expect(after.status).to.equal('active');
      expect(Date.parse(after.expiresAt as string)).to.be.greaterThan(Date.now() + 29 * 86_400_000);
      await eventually(async () => (secret()?.disabled === 'false' ? true : undefined), 'the secret enabled again');
    });
  });

  describe('the database goes away', () => {
    let fake: DarajaFake;
    let controller: Awaited<ReturnType<typeof startTestController>>;
    let dbName = '';
    const admin = async (sql: string) => {
      const u = new URL(process.env.DATABASE_URL!);
      u.pathname = '/postgres';
      const c = new pg.Client({ connectionString: u.toString() });
      await c.connect();
      try {
        await c.query(sql);
      } finally {
        await c.end();
      }
    };
    before(async function () {
      if (usingEmbedded()) this.skip(); // PGlite is in-process: it cannot be stopped under a running controller
      fake = await startFake();
      const url = await freshDatabase();
      dbName = new URL(url).pathname.slice(1);
      controller = await startTestController({ MTANDAO_DARAJA_URL: fake.url, MTANDAO_MPESA_SWEEP_MS: '300' }, { databaseUrl: url });
    });
    after(async () => {
      if (dbName) await admin(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`).catch(() => undefined);
      await controller?.stop();
      await fake?.stop();
    });

    it("answers an error while it is down, and accepts Daraja's retry afterwards: nothing lost, one payment", async () => {
      const api = await new ApiClient(controller.url).login('admin', ADMIN_PASSWORD);
      const fx = new Fixtures(api);
      const world = await fx.world();
      const { token } = await setUpMpesa(api);
      const c = expectStatus(
        await api.post('/customers', fx.customerBody(world.pppoe.id as string, { networkId: world.pppoeNetworkId, ipAddress: '10.64.2.30' })),
        201,
      ) as Body;
      const body = confirmation({ BillRefNumber: c.accountNumber });

      await admin(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS false`);
      await admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${dbName}'`);
      const during = await callback(controller.url, `/c2b/confirmation/${token}`, body);
      expect(during.status).to.equal(503);
      expect(during.body.ResultCode).to.not.equal(0);

      await admin(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`);
      // Daraja retries until it gets a 2xx
      const retry = await eventually(
        async () => {
          const r = await callback(controller.url, `/c2b/confirmation/${token}`, body);
          return r.status === 200 ? r : undefined;
        },
        'the retry to be accepted',
        20_000,
      );
      expect(retry.body).to.deep.equal({ ResultCode: 0, ResultDesc: 'Accepted' });
      await callback(controller.url, `/c2b/confirmation/${token}`, body);
      const payments = (expectStatus(await api.get(`/customers/${c.id}/payments`), 200) as { items: Body[] }).items.filter((p) => p.method === 'mpesa');
      expect(payments.map((p) => p.reference)).to.deep.equal([body.TransID]);
    });
  });
});
