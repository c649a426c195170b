import { expect } from 'chai';
import { expectStatus } from './helpers/client.ts';
import { callback, confirmation, startMpesaStack } from './helpers/mpesa.ts';

type Body = Record<string, unknown>;
const ACCEPTED = { ResultCode: 0, ResultDesc: 'Accepted' };

// A confirmation is stored and paid in one transaction: what that one transaction writes, and
// what happens when its payment part fails.
describe('M-Pesa C2B: a confirmation stored and paid in one transaction', () => {
  let stack: Awaited<ReturnType<typeof startMpesaStack>>;
  let controller: typeof stack.controller;
  let api: typeof stack.api;
  let fx: typeof stack.fx;
  let world: typeof stack.world;
  let token: string;
  let ip = 10;

  before(async () => {
    stack = await startMpesaStack();
    ({ controller, api, fx, world, token } = stack);
  });
  after(async () => stack.stop());

  const customer = async (extra: Body = {}): Promise<Body> =>
    expectStatus(
      await api.post('/customers', fx.customerBody(world.pppoe.id as string, { networkId: world.pppoeNetworkId, ipAddress: `10.64.9.${ip++}`, ...extra })),
      201,
    ) as Body;
  const db = () => controller.services.db;
  const payments = async (customerId: unknown): Promise<Body[]> =>
    (expectStatus(await api.get(`/customers/${customerId}/payments`), 200) as { items: Body[] }).items.filter((p) => p.method === 'mpesa');

  it('renews, audits the payment with its entry and receipt, queues the receipt SMS and the router job, all for one confirmation', async () => {
    const c = await customer();
    const before = (expectStatus(await api.get(`/customers/${c.id}`), 200) as Body).expiresAt as string;
    const body = confirmation({ BillRefNumber: c.accountNumber });
    expect(await callback(controller.url, `/c2b/confirmation/${token}`, body)).to.deep.equal({ status: 200, body: ACCEPTED });

    const [paid] = await payments(c.id);
    expect(paid).to.include({ amount: '1500.00', reference: body.TransID });
    const after = expectStatus(await api.get(`/customers/${c.id}`), 200) as Body;
    expect(new Date(after.expiresAt as string).getTime()).to.be.greaterThan(new Date(before).getTime());

    const [tx] = await db().rows<Body>('SELECT status, payment_id::text, receipt_number FROM mpesa_transactions WHERE trans_id = $1', [body.TransID]);
    expect(tx).to.deep.equal({ status: 'matched', payment_id: paid!.id, receipt_number: paid!.receiptNumber });
    const audits = await db().rows<{ details: Body }>(`SELECT details FROM audit_log WHERE action = 'customer.payment' AND entity_id = $1`, [String(c.id)]);
    const audit = audits.find((a) => a.details.reference === body.TransID);
    expect(audit?.details).to.include({ entryId: paid!.id, receiptNumber: paid!.receiptNumber, method: 'mpesa', amount: '1500.00', periods: 1 });
    const sms = await db().rows<Body>(`SELECT kind, to_phone FROM sms_messages WHERE dedupe_key = $1`, [`receipt:${paid!.id}`]);
    expect(sms).to.deep.equal([{ kind: 'receipt', to_phone: c.phone }]);
    const jobs = await db().rows<Body>(`SELECT type, reason FROM provisioning_jobs WHERE customer_id = $1 AND reason = 'renewed by payment'`, [c.id]);
    expect(jobs).to.deep.equal([{ type: 'customer.apply', reason: 'renewed by payment' }]);
  });

  /** Runs `fn` while the ledger refuses the payment with this reference: the transaction that stores and pays it rolls back. */
  const whileLedgerRefuses = async (reference: string, fn: () => Promise<void>): Promise<void> => {
    await db().exec(`CREATE FUNCTION h3_refuse() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RAISE EXCEPTION ''refused by the test''; END'`);
    await db().exec(`CREATE TRIGGER h3_refuse BEFORE INSERT ON ledger_entries FOR EACH ROW WHEN (NEW.reference = '${reference}') EXECUTE FUNCTION h3_refuse()`);
    try {
      await fn();
    } finally {
      await db().exec('DROP TRIGGER h3_refuse ON ledger_entries');
      await db().exec('DROP FUNCTION h3_refuse()');
    }
  };

  it('a payment that fails is still stored and answered; the sweep pays it once the fault is gone, and a repeat pays nothing more', async () => {
    const c = await customer();
    const body = confirmation({ BillRefNumber: c.accountNumber });
    await whileLedgerRefuses(body.TransID as string, async () => {
      expect(await callback(controller.url, `/c2b/confirmation/${token}`, body)).to.deep.equal({ status: 200, body: ACCEPTED });
      const stored = await db().rows<Body>('SELECT status FROM mpesa_transactions WHERE trans_id = $1', [body.TransID]);
      expect(stored).to.deep.equal([{ status: 'received' }]);
      expect(await payments(c.id)).to.deep.equal([]);
    });
    // the sweep leaves the last few seconds to the live path: this one is older
    await db().exec(`UPDATE mpesa_transactions SET received_at = now() - interval '1 minute' WHERE trans_id = $1`, [body.TransID]);
    expect(await controller.services.mpesa.c2b.sweep()).to.be.at.least(1);
    expect(await callback(controller.url, `/c2b/confirmation/${token}`, body)).to.deep.equal({ status: 200, body: ACCEPTED });
    expect((await payments(c.id)).map((p) => p.reference)).to.deep.equal([body.TransID]);
    expect(await db().rows<Body>('SELECT status FROM mpesa_transactions WHERE trans_id = $1', [body.TransID])).to.deep.equal([{ status: 'matched' }]);
  });

  it("a repeat of a confirmation whose payment failed pays it (Daraja's retry does the sweep's work)", async () => {
    const c = await customer();
    const body = confirmation({ BillRefNumber: c.accountNumber });
    await whileLedgerRefuses(body.TransID as string, async () => {
      expect(await callback(controller.url, `/c2b/confirmation/${token}`, body)).to.deep.equal({ status: 200, body: ACCEPTED });
    });
    await Promise.all(Array.from({ length: 5 }, () => callback(controller.url, `/c2b/confirmation/${token}`, body)));
    expect((await payments(c.id)).map((p) => p.reference)).to.deep.equal([body.TransID]);
  });

  it('an account number two customers share is not guessed: the payment waits in the unmatched queue', async () => {
    await customer({ additionalAccountNumber: 'SHARED-1' });
    const other = await customer();
    await db().exec(`UPDATE customers SET additional_account_number = 'shared 1' WHERE id = $1`, [other.id]);
    const body = confirmation({ BillRefNumber: 'shared1' });
    expect(await callback(controller.url, `/c2b/confirmation/${token}`, body)).to.deep.equal({ status: 200, body: ACCEPTED });
    const rows = await db().rows<Body>('SELECT status, customer_id FROM mpesa_transactions WHERE trans_id = $1', [body.TransID]);
    expect(rows).to.deep.equal([{ status: 'unmatched', customer_id: null }]);
  });
});
