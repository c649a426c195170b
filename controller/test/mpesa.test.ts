import { expect } from 'chai';
import type { DarajaFake } from '../src/mpesa/fake/daraja-fake.ts';
import { ApiClient, expectStatus } from './helpers/client.ts';
import { ADMIN_PASSWORD, startTestController } from './helpers/controller.ts';
import { Fixtures } from './helpers/fixtures.ts';
import { CONSUMER_KEY, CONSUMER_SECRET, PASSKEY, SHORTCODE, callback, confirmation, setUpMpesa, startFake } from './helpers/mpesa.ts';
import { eventually } from './helpers/stack.ts';

type Body = Record<string, unknown>;
const ACCEPTED = { ResultCode: 0, ResultDesc: 'Accepted' };

describe('M-Pesa (Daraja): settings, C2B, unmatched queue, STK push', () => {
  let fake: DarajaFake;
  let controller: Awaited<ReturnType<typeof startTestController>>;
  let api: ApiClient;
  let fx: Fixtures;
  let world: Awaited<ReturnType<Fixtures['world']>>;
  let token: string;
  let ip = 10;

  before(async () => {
    fake = await startFake();
    controller = await startTestController({ MTANDAO_DARAJA_URL: fake.url, MTANDAO_STK_QUERY_AFTER_SECONDS: '0.3', MTANDAO_MPESA_SWEEP_MS: '200' });
    api = await new ApiClient(controller.url).login('admin', ADMIN_PASSWORD);
    fx = new Fixtures(api);
    world = await fx.world();
    ({ token } = await setUpMpesa(api));
  });
  after(async () => {
    await controller.stop();
    await fake.stop();
  });

  const customer = async (extra: Body = {}): Promise<Body> =>
    expectStatus(
      await api.post('/customers', fx.customerBody(world.pppoe.id as string, { networkId: world.pppoeNetworkId, ipAddress: `10.64.7.${ip++}`, ...extra })),
      201,
    ) as Body;
  const mpesaPayments = async (customerId: unknown): Promise<Body[]> =>
    (expectStatus(await api.get(`/customers/${customerId}/payments`), 200) as { items: Body[] }).items.filter((p) => p.method === 'mpesa');
  const stored = async (transId: string): Promise<Body[]> =>
    controller.services.db.rows<Body>('SELECT status, reason, customer_id FROM mpesa_transactions WHERE trans_id = $1', [transId]);
  const count = async (): Promise<number> => Number((await controller.services.db.rows<{ n: string }>('SELECT count(*) AS n FROM mpesa_transactions'))[0]!.n);

  describe('settings', () => {
    it('keeps the consumer key, secret and passkey write-only and encrypted at rest', async () => {
      const view = expectStatus(await api.get('/settings/mpesa'), 200) as Body;
      expect(view).to.include({
        shortcode: SHORTCODE,
        shortcodeType: 'paybill',
        environment: 'sandbox',
        consumerKeySet: true,
        consumerSecretSet: true,
        passkeySet: true,
      });
      const text = JSON.stringify(view);
      for (const secret of [CONSUMER_KEY, CONSUMER_SECRET, PASSKEY]) expect(text).not.to.include(secret);
      const rows = await controller.services.db.rows<{ value: unknown }>(`SELECT value FROM settings WHERE key LIKE 'mpesa.%'`);
      for (const secret of [CONSUMER_KEY, CONSUMER_SECRET, PASSKEY]) expect(JSON.stringify(rows)).not.to.include(secret);
    });

    it('shows three callback URLs ending in one unguessable token, and registers them with Daraja (v2)', async () => {
      const view = expectStatus(await api.get('/settings/mpesa'), 200) as { callbackUrls: Record<string, string> };
      expect(view.callbackUrls.validation).to.match(new RegExp(`/api/v1/callbacks/c2b/validation/${token}$`));
      expect(view.callbackUrls.confirmation).to.match(new RegExp(`/api/v1/callbacks/c2b/confirmation/${token}$`));
      expect(view.callbackUrls.stkCallback).to.match(new RegExp(`/api/v1/callbacks/stk/callback/${token}$`));
      expect(token.length).to.be.at.least(30);
      const reg = fake.registrations.get(SHORTCODE)!;
      expect(reg).to.include({
        version: 'v2',
        ResponseType: 'Completed',
        ConfirmationURL: view.callbackUrls.confirmation,
        ValidationURL: view.callbackUrls.validation,
      });
    });

    it("shows Daraja's error when it refuses the credentials", async () => {
      expectStatus(await api.patch('/settings/mpesa', { consumerSecret: 'wrong-secret' }), 200);
      const reg = expectStatus(await api.post('/settings/mpesa/register-urls'), 200) as Body;
      expect(reg.ok).to.equal(false);
      expect(reg.message).to.include('400.008.01 Invalid Authentication passed');
      expect(reg.answer).to.deep.include({ errorCode: '400.008.01' });
      expectStatus(await api.patch('/settings/mpesa', { consumerSecret: CONSUMER_SECRET }), 200);
    });

    it('clears the till number and the callback base URL with null, as the settings form sends them', async () => {
      const set = expectStatus(await api.patch('/settings/mpesa', { tillNumber: '123456', callbackBaseUrl: 'https://billing.example.co.ke' }), 200) as Body;
      expect(set).to.include({ tillNumber: '123456', callbackBaseUrl: 'https://billing.example.co.ke' });
      expect((set.callbackUrls as Body).confirmation).to.equal(`https://billing.example.co.ke/api/v1/callbacks/c2b/confirmation/${token}`);
      const cleared = expectStatus(await api.patch('/settings/mpesa', { tillNumber: null, callbackBaseUrl: null, allowedIps: [] }), 200) as Body;
      expect(cleared).to.include({ tillNumber: null, callbackBaseUrl: null });
    });

    it('names the field of a bad setting', async () => {
      const res = await api.patch('/settings/mpesa', { shortcode: '12ab' });
      expect(res.status).to.equal(422);
      expect((res.body as { error: Body }).error).to.include({ field: 'shortcode', message: 'Shortcode must be 5–7 digits' });
    });

    it('refuses a callback base URL Safaricom would filter out (M-Pesa or Safaricom in any spelling), as the fake Daraja does', async () => {
      for (const url of ['https://mpesa.isp.co.ke', 'https://isp.co.ke/M-Pesa', 'https://pay.safaricom-isp.co.ke']) {
        const res = await api.patch('/settings/mpesa', { callbackBaseUrl: url });
        expect(res.status, url).to.equal(422);
        expect((res.body as { error: Body }).error).to.include({ field: 'callbackBaseUrl' });
      }
      // the fake filters like Daraja: an old-style /mpesa/ URL is refused
      const basic = Buffer.from(`${CONSUMER_KEY}:${CONSUMER_SECRET}`).toString('base64');
      const oauth = (await (
        await fetch(`${fake.url}/oauth/v1/generate?grant_type=client_credentials`, { headers: { authorization: `Basic ${basic}` } })
      ).json()) as { access_token: string };
      const refused = await fetch(`${fake.url}/mpesa/c2b/v2/registerurl`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${oauth.access_token}` },
        body: JSON.stringify({
          ShortCode: SHORTCODE,
          ResponseType: 'Completed',
          ConfirmationURL: 'https://isp.co.ke/api/v1/mpesa/c2b/confirmation/x',
          ValidationURL: 'https://isp.co.ke/api/v1/callbacks/c2b/validation/x',
        }),
      });
      expect(refused.status).to.equal(400);
      expect(await refused.json()).to.include({ errorMessage: 'Bad Request - Invalid ConfirmationURL' });
    });

    it('caches the OAuth token: many Daraja calls, one token', async () => {
      const before = fake.tokensIssued;
      for (let i = 0; i < 3; i++) expectStatus(await api.post('/settings/mpesa/register-urls'), 200);
      expect(fake.tokensIssued - before).to.be.at.most(1);
    });
  });

  describe('C2B confirmation', () => {
    it('pays the customer whose account number the payment names, through the fake paybill', async () => {
      const c = await customer();
      const result = await fake.payBill({ shortCode: SHORTCODE, account: c.accountNumber as string, amount: '1500.00' });
      expect(result.validation).to.deep.include({ status: 200, body: { ResultCode: '0', ResultDesc: 'Accepted' } });
      expect(result.confirmation).to.deep.include({ status: 200, body: ACCEPTED });
      const payments = await mpesaPayments(c.id);
      expect(payments.map((p) => [p.amount, p.reference])).to.deep.equal([['1500.00', result.transId]]);
      expect(await stored(result.transId)).to.deep.equal([{ status: 'matched', reason: null, customer_id: String(c.id) }]);
    });

    it('matches the additional account number trimmed, upper-cased, without spaces and dashes', async () => {
      const c = await customer({ additionalAccountNumber: 'ACC123' });
      const body = confirmation({ BillRefNumber: '  acc-12 3 ' });
      expect(await callback(controller.url, `/c2b/confirmation/${token}`, body)).to.deep.equal({ status: 200, body: ACCEPTED });
      expect((await mpesaPayments(c.id)).map((p) => p.reference)).to.deep.equal([body.TransID]);
    });

    it('exactly one payment for one TransID sent 50 times at once', async () => {
      const c = await customer();
      const body = confirmation({ BillRefNumber: c.accountNumber, TransAmount: '1500' });
      const answers = await Promise.all(Array.from({ length: 50 }, () => callback(controller.url, `/c2b/confirmation/${token}`, body)));
      expect(answers.every((a) => a.status === 200 && a.body.ResultCode === 0)).to.equal(true);
      expect((await mpesaPayments(c.id)).length).to.equal(1);
      expect((await stored(body.TransID as string)).length).to.equal(1);
    });

    it('a wrong token gets 404 and stores nothing', async () => {
      const before = await count();
      const res = await callback(controller.url, `/c2b/confirmation/${token.slice(0, -2)}xx`, confirmation());
      expect(res.status).to.equal(404);
      expect((await callback(controller.url, '/c2b/confirmation/short', confirmation())).status).to.equal(404);
      expect(await count()).to.equal(before);
    });

    const bad: [string, string | Body, string][] = [
      ['malformed JSON', '{"TransID": "RKX1', 'Malformed JSON'],
      ['a missing TransID', confirmation({ TransID: undefined }), 'Missing TransID'],
      ['a non-numeric amount', confirmation({ TransAmount: 'ten' }), 'TransAmount "ten" is not an amount'],
      ['a negative amount', confirmation({ TransAmount: '-10.00' }), 'TransAmount "-10.00" is not an amount'],
      ['a zero amount', confirmation({ TransAmount: '0.00' }), 'TransAmount must be more than zero'],
      ['an unknown shortcode', confirmation({ BusinessShortCode: '111111' }), 'Unknown shortcode 111111'],
    ];
    for (const [what, body, reason] of bad) {
      it(`stores ${what} as rejected with the reason and answers so Daraja stops`, async () => {
        const res = await callback(controller.url, `/c2b/confirmation/${token}`, body);
        expect(res.status).to.equal(200);
        const rows = await controller.services.db.rows<Body>(`SELECT status, reason FROM mpesa_transactions ORDER BY id DESC LIMIT 1`);
        expect(rows[0]).to.deep.equal({ status: 'rejected', reason });
      });
    }

    it('puts an unmatched payment in the queue, and assigning it pays the customer', async () => {
      const body = confirmation({ BillRefNumber: 'NOBODY-99' });
      expect((await callback(controller.url, `/c2b/confirmation/${token}`, body)).status).to.equal(200);
      const queue = expectStatus(await api.get('/mpesa/unmatched'), 200) as { items: Body[]; total: number };
      const item = queue.items.find((i) => i.transId === body.TransID)!;
      expect(item).to.include({ status: 'unmatched', amount: '1500.00', billRefNumber: 'NOBODY-99', name: 'John', customerId: null });
      const c = await customer();
      const assigned = expectStatus(await api.post(`/mpesa/unmatched/${item.id}/assign`, { customerId: c.id }), 200) as Body;
      expect(assigned).to.include({ status: 'assigned', customerId: String(c.id) });
      expect((await mpesaPayments(c.id)).map((p) => p.reference)).to.deep.equal([body.TransID]);
      const again = await api.post(`/mpesa/unmatched/${item.id}/assign`, { customerId: c.id });
      expect(again.status).to.equal(409);
      expect((expectStatus(await api.get('/mpesa/unmatched'), 200) as { items: Body[] }).items.map((i) => i.transId)).not.to.include(body.TransID);
    });

    it('refuses to assign to a customer that does not exist, naming the field', async () => {
      const body = confirmation({ BillRefNumber: 'NOBODY-98' });
      await callback(controller.url, `/c2b/confirmation/${token}`, body);
      const item = (expectStatus(await api.get('/mpesa/unmatched'), 200) as { items: Body[] }).items.find((i) => i.transId === body.TransID)!;
      const res = await api.post(`/mpesa/unmatched/${item.id}/assign`, { customerId: '999999' });
      expect(res.status).to.equal(422);
      expect((res.body as { error: Body }).error).to.include({ field: 'customerId' });
      expect((expectStatus(await api.get(`/mpesa/transactions/${item.id}`), 200) as Body).status).to.equal('unmatched');
    });
  });

  describe('C2B validation', () => {
    it('accepts any account under "accept all"', async () => {
      const res = await callback(controller.url, `/c2b/validation/${token}`, confirmation({ BillRefNumber: 'NOBODY' }));
      expect(res).to.deep.equal({ status: 200, body: { ResultCode: '0', ResultDesc: 'Accepted' } });
    });
    it('rejects an unknown account with C2B00012 under "reject unknown", accepts a known one', async () => {
      expectStatus(await api.patch('/settings/mpesa', { validationPolicy: 'reject-unknown' }), 200);
      try {
        expect(await callback(controller.url, `/c2b/validation/${token}`, confirmation({ BillRefNumber: 'NOBODY' }))).to.deep.equal({
          status: 200,
          body: { ResultCode: 'C2B00012', ResultDesc: 'Rejected' },
        });
        const c = await customer();
        expect((await callback(controller.url, `/c2b/validation/${token}`, confirmation({ BillRefNumber: c.accountNumber }))).body).to.deep.equal({
          ResultCode: '0',
          ResultDesc: 'Accepted',
        });
        // the fake stops a refused payment at validation, as Safaricom does
        const refused = await fake.payBill({ shortCode: SHORTCODE, account: 'NOBODY', amount: 10 });
        expect(refused.confirmation).to.equal(null);
      } finally {
        expectStatus(await api.patch('/settings/mpesa', { validationPolicy: 'accept-all' }), 200);
      }
    });
  });

  describe('STK push', () => {
    const waitFor = (checkout: string, status: string) =>
      eventually(
        async () => {
          const v = expectStatus(await api.get(`/mpesa/stk/${checkout}`), 200) as Body;
          return v.status === status ? v : undefined;
        },
        `STK ${checkout} to be ${status}`,
        10_000,
      );

    it('a prompt the customer pays ends paid, with a payment under the M-Pesa receipt', async () => {
      const c = await customer();
      const res = expectStatus(await api.post(`/customers/${c.id}/stk-push`, { amount: '1500' }), 201) as Body;
      expect(res).to.include({ status: 'pending', amount: '1500.00', accountReference: String(c.accountNumber).slice(0, 12) });
      expect(res.checkoutRequestId).to.match(/^ws_CO_/);
      const done = await waitFor(res.checkoutRequestId as string, 'paid');
      expect(done.mpesaReceiptNumber).to.match(/^[A-Z0-9]{10}$/);
      expect((await mpesaPayments(c.id)).map((p) => p.reference)).to.deep.equal([done.mpesaReceiptNumber]);
      const sent = fake.stk.get(res.checkoutRequestId as string)!.request;
      expect(sent).to.include({ BusinessShortCode: SHORTCODE, TransactionType: 'CustomerPayBillOnline', PartyB: SHORTCODE, Amount: 1500 });
      expect(Buffer.from(sent.Password as string, 'base64').toString()).to.equal(`${SHORTCODE}${PASSKEY}${sent.Timestamp}`);
    });

    it('a prompt the customer cancels (1032) ends cancelled with the reason, and pays nothing', async () => {
      const c = await customer({ phone: '0712341032' });
      const res = expectStatus(await api.post(`/customers/${c.id}/stk-push`, {}), 201) as Body;
      const done = await waitFor(res.checkoutRequestId as string, 'cancelled');
      expect(done).to.include({ resultCode: '1032', resultDesc: 'Request cancelled by user' });
      expect(await mpesaPayments(c.id)).to.deep.equal([]);
    });

    it('other codes end failed with the reason shown', async () => {
      const c = await customer();
      fake.nextStk.push({ resultCode: 1 });
      const res = expectStatus(await api.post(`/customers/${c.id}/stk-push`, {}), 201) as Body;
      const done = await waitFor(res.checkoutRequestId as string, 'failed');
      expect(done).to.include({ resultCode: '1', resultDesc: 'The balance is insufficient for the transaction.' });
    });

    it('a callback and an STK query racing for one prompt pay once', async () => {
      const c = await customer();
      fake.nextStk.push({ resultCode: 0, callback: false });
      const res = expectStatus(await api.post(`/customers/${c.id}/stk-push`, { amount: '1500' }), 201) as Body;
      const checkout = res.checkoutRequestId as string;
      await eventually(async () => (fake.stk.get(checkout)?.done ? true : undefined), 'the fake to decide');
      const r = fake.stk.get(checkout)!;
      const body = {
        Body: {
          stkCallback: {
            MerchantRequestID: r.merchantRequestId,
            CheckoutRequestID: checkout,
            ResultCode: 0,
            ResultDesc: 'ok',
            CallbackMetadata: {
              Item: [
                { Name: 'Amount', Value: 1500 },
                { Name: 'MpesaReceiptNumber', Value: r.receipt },
              ],
            },
          },
        },
      };
      // the sweep's query (every 200 ms) and these callbacks all try to settle it
      await Promise.all(Array.from({ length: 5 }, () => callback(controller.url, `/stk/callback/${token}`, body)));
      await waitFor(checkout, 'paid');
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect((await mpesaPayments(c.id)).length).to.equal(1);
    });

    it('no callback: the STK query decides', async () => {
      const c = await customer();
      fake.nextStk.push({ resultCode: 0, callback: false });
      const res = expectStatus(await api.post(`/customers/${c.id}/stk-push`, { amount: '1500.00' }), 201) as Body;
      await waitFor(res.checkoutRequestId as string, 'paid');
      expect((await mpesaPayments(c.id)).length).to.equal(1);
    });

    it("the paybill's own confirmation of a paid prompt does not pay twice", async () => {
      const c = await customer();
      const res = expectStatus(await api.post(`/customers/${c.id}/stk-push`, { amount: '1500' }), 201) as Body;
      const done = await waitFor(res.checkoutRequestId as string, 'paid');
      await callback(controller.url, `/c2b/confirmation/${token}`, confirmation({ TransID: done.mpesaReceiptNumber, BillRefNumber: c.accountNumber }));
      expect((await mpesaPayments(c.id)).length).to.equal(1);
    });

    it('a prompt the STK query settled (no receipt) and the paybill confirmation of that money pay once, in either order', async () => {
      // query first, then the confirmation carrying M-Pesa's receipt
      const c = await customer();
      fake.nextStk.push({ resultCode: 0, callback: false });
      const res = expectStatus(await api.post(`/customers/${c.id}/stk-push`, { amount: '1500' }), 201) as Body;
      const checkout = res.checkoutRequestId as string;
      const queried = await waitFor(checkout, 'paid');
      expect(queried.mpesaReceiptNumber).to.equal(null);
      const receipt = fake.stk.get(checkout)!.receipt as string;
      await callback(controller.url, `/c2b/confirmation/${token}`, confirmation({ TransID: receipt, BillRefNumber: c.accountNumber, MSISDN: res.phone }));
      expect((await mpesaPayments(c.id)).length).to.equal(1);
      expect(await stored(receipt)).to.have.length(1);
      expect((await stored(receipt))[0]!.reason).to.match(/^Paid once: the M-Pesa prompt/);
      expect((expectStatus(await api.get(`/mpesa/stk/${checkout}`), 200) as Body).mpesaReceiptNumber).to.equal(receipt);

      // the confirmation first, then the query
      const d = await customer();
      fake.nextStk.push({ resultCode: 0, callback: false });
      const res2 = expectStatus(await api.post(`/customers/${d.id}/stk-push`, { amount: '1500' }), 201) as Body;
      const checkout2 = res2.checkoutRequestId as string;
      await eventually(async () => (fake.stk.get(checkout2)?.done ? true : undefined), 'the fake to decide');
      const receipt2 = fake.stk.get(checkout2)!.receipt as string;
      await callback(controller.url, `/c2b/confirmation/${token}`, confirmation({ TransID: receipt2, BillRefNumber: d.accountNumber }));
      const done = await waitFor(checkout2, 'paid');
      expect(done.mpesaReceiptNumber).to.equal(receipt2);
      expect((await mpesaPayments(d.id)).length).to.equal(1);

      // a second, separate paybill payment of the same amount is its own money
      await callback(controller.url, `/c2b/confirmation/${token}`, confirmation({ BillRefNumber: d.accountNumber }));
      expect((await mpesaPayments(d.id)).length).to.equal(2);
    });

    it('holds no database connection while Daraja answers a prompt; its Idempotency-Key replays the one prompt', async () => {
      const c = await customer();
      fake.pushAnswerDelayMs = 1500;
      try {
        const key = { 'idempotency-key': `stk-${c.id}` };
        const pushing = api.post(`/customers/${c.id}/stk-push`, { amount: '1500' }, key);
        const claimed = async () =>
          (await controller.services.db.rows<{ n: string }>('SELECT count(*) AS n FROM idempotency_keys WHERE key = $1', [key['idempotency-key']]))[0]!.n;
        await eventually(async () => ((await claimed()) === '1' ? true : undefined), 'the key to be claimed');
        // the embedded database has one connection: a request must not wait for Safaricom
        const t0 = performance.now();
        expectStatus(await api.get(`/customers/${c.id}`), 200);
        expect(performance.now() - t0).to.be.below(1000);
        const meanwhile = await api.post(`/customers/${c.id}/stk-push`, { amount: '1500' }, key);
        expect(meanwhile.status).to.equal(409);
        const first = expectStatus(await pushing, 201) as Body;
        const again = await api.post(`/customers/${c.id}/stk-push`, { amount: '1500' }, key);
        expect(again.status).to.equal(201);
        expect(again.headers.get('idempotent-replayed')).to.equal('true');
        expect((again.body as Body).checkoutRequestId).to.equal(first.checkoutRequestId);
        expect([...fake.stk.values()].filter((r) => r.request.AccountReference === String(c.accountNumber).slice(0, 12))).to.have.length(1);
      } finally {
        fake.pushAnswerDelayMs = 0;
      }
    });

    it('a prompt Daraja refuses releases its Idempotency-Key: the retry asks again', async () => {
      const c = await customer();
      const key = { 'idempotency-key': `stk-refused-${c.id}` };
      expectStatus(await api.patch('/settings/mpesa', { passkey: 'not-the-passkey' }), 200);
      try {
        expect((await api.post(`/customers/${c.id}/stk-push`, { amount: '1500' }, key)).status).to.equal(502);
      } finally {
        expectStatus(await api.patch('/settings/mpesa', { passkey: PASSKEY }), 200);
      }
      const retry = await api.post(`/customers/${c.id}/stk-push`, { amount: '1500' }, key);
      expect(retry.status).to.equal(201);
      expect(retry.headers.get('idempotent-replayed')).to.equal(null);
    });

    it("shows Daraja's refusal of a prompt and names a bad phone or amount", async () => {
      const c = await customer();
      const phone = await api.post(`/customers/${c.id}/stk-push`, { phone: '0612345678' });
      expect(phone.status).to.equal(422);
      expect((phone.body as { error: Body }).error).to.include({ field: 'phone', message: 'Invalid phone number' });
      const cents = await api.post(`/customers/${c.id}/stk-push`, { amount: '10.50' });
      expect((cents.body as { error: Body }).error).to.include({ field: 'amount' });
      expectStatus(await api.patch('/settings/mpesa', { passkey: 'not-the-passkey' }), 200);
      try {
        const refused = await api.post(`/customers/${c.id}/stk-push`, {});
        expect(refused.status).to.equal(502);
        expect((refused.body as { error: Body }).error.message).to.include('400.002.02 Bad Request - Invalid Password');
      } finally {
        expectStatus(await api.patch('/settings/mpesa', { passkey: PASSKEY }), 200);
      }
    });

    it('an STK callback with a wrong token gets 404; an unknown CheckoutRequestID is stored as rejected', async () => {
      const body = { Body: { stkCallback: { MerchantRequestID: '1-2-1', CheckoutRequestID: 'ws_CO_nobody', ResultCode: 0, ResultDesc: 'ok' } } };
      expect((await callback(controller.url, '/stk/callback/nope', body)).status).to.equal(404);
      expect(await callback(controller.url, `/stk/callback/${token}`, body)).to.deep.equal({ status: 200, body: ACCEPTED });
      // by its id: a prompt of an earlier test may be settled meanwhile, and would be the newest row
      const rows = await controller.services.db.rows<Body>(`SELECT status, reason FROM mpesa_transactions WHERE checkout_request_id = 'ws_CO_nobody'`);
      expect(rows).to.deep.equal([{ status: 'rejected', reason: 'Unknown CheckoutRequestID ws_CO_nobody' }]);
    });
  });
});
