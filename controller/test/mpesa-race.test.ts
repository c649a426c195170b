import { expect } from 'chai';
import pg from 'pg';
import { expectStatus } from './helpers/client.ts';
import { callback, confirmation, startMpesaStack } from './helpers/mpesa.ts';

type Body = Record<string, unknown>;

// The paybill confirmation of a prompt's money arriving while the STK query is settling that very
// prompt: the settle holds the prompt's lock until it commits, and the confirmation must wait for it
// and then see the prompt paid, never pay a second time beside it. PostgreSQL only: on the embedded
// database one backend serves every connection, so an open transaction holds everything anyway.
describe('M-Pesa: a confirmation arriving while the STK query settles its prompt', () => {
  let stack: Awaited<ReturnType<typeof startMpesaStack>>;
  before(async function () {
    if (!process.env.DATABASE_URL) this.skip();
    // no query of its own: the test plays the settle in progress
    stack = await startMpesaStack({ MTANDAO_STK_QUERY_AFTER_SECONDS: '3600' });
  });
  after(async () => stack?.stop());

  it('waits for the settle, then records itself as that prompt’s receipt instead of paying again', async () => {
    const { api, fake, fx, world, controller, token } = stack;
    const c = expectStatus(
      await api.post('/customers', fx.customerBody(world.pppoe.id as string, { networkId: world.pppoeNetworkId, ipAddress: '10.64.7.200' })),
      201,
    ) as Body;
    fake.nextStk.push({ resultCode: 0, callback: false });
    const push = expectStatus(await api.post(`/customers/${c.id}/stk-push`, { amount: '1500' }), 201) as Body;
    const checkout = push.checkoutRequestId as string;

    // the settle in progress: the prompt locked, as the STK service locks it before paying
    const settle = new pg.Client({ connectionString: controller.config.databaseUrl });
    await settle.connect();
    try {
      await settle.query('BEGIN');
      await settle.query('SELECT 1 FROM mpesa_stk_requests WHERE checkout_request_id = $1 FOR UPDATE', [checkout]);
      const body = confirmation({ BillRefNumber: c.accountNumber, MSISDN: push.phone });
      const answered = callback(controller.url, `/c2b/confirmation/${token}`, body);
      await new Promise((r) => setTimeout(r, 300));
      // the query's outcome: paid, without M-Pesa's receipt
      await settle.query(`UPDATE mpesa_stk_requests SET status = 'paid', result_code = '0', completed_at = now() WHERE checkout_request_id = $1`, [checkout]);
      await settle.query('COMMIT');
      expect((await answered).body).to.deep.equal({ ResultCode: 0, ResultDesc: 'Accepted' });

      const [stored] = await controller.services.db.rows<{ status: string; reason: string | null }>(
        'SELECT status, reason FROM mpesa_transactions WHERE trans_id = $1',
        [body.TransID],
      );
      expect(stored?.status).to.equal('matched');
      expect(stored?.reason).to.match(/^Paid once: the M-Pesa prompt/);
      const payments = (expectStatus(await api.get(`/customers/${c.id}/payments`), 200) as { items: Body[] }).items;
      expect(payments.filter((p) => p.method === 'mpesa')).to.have.length(0);
      expect((expectStatus(await api.get(`/mpesa/stk/${checkout}`), 200) as Body).mpesaReceiptNumber).to.equal(body.TransID);
    } finally {
      await settle.end();
    }
  });
});
