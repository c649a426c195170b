import type { Database, Transaction } from '../db/database.ts';
import { ACCOUNT_MATCH, INSERT_SQL, RECEIPTLESS_PROMPT, storeParams } from './mpesa.sql.ts';

/** A stored M-Pesa transaction row. */
export interface MpesaTransactionRow {
  id: string;
  source: 'c2b' | 'stk';
  trans_id: string | null;
  trans_type: string | null;
  trans_time: Date | null;
  amount_minor: string | null;
  business_short_code: string | null;
  bill_ref_number: string | null;
  msisdn: string | null;
  first_name: string | null;
  middle_name: string | null;
  last_name: string | null;
  checkout_request_id: string | null;
  status: 'received' | 'matched' | 'unmatched' | 'assigned' | 'rejected';
  reason: string | null;
  customer_id: string | null;
  customer_name: string | null;
  payment_id: string | null;
  receipt_number: string | null;
  received_at: Date;
  processed_at: Date | null;
}

/** What is stored of a notification before it is answered. */
export interface NewMpesaTransaction {
  source: 'c2b' | 'stk';
  transId: string | null;
  transType?: string | null;
  transTime?: Date | null;
  amountMinor?: bigint | null;
  shortCode?: string | null;
  billRefNumber?: string | null;
  invoiceNumber?: string | null;
  orgAccountBalance?: string | null;
  thirdPartyTransId?: string | null;
  msisdn?: string | null;
  firstName?: string | null;
  middleName?: string | null;
  lastName?: string | null;
  checkoutRequestId?: string | null;
  customerId?: string | null;
  raw: string;
  status: 'received' | 'rejected';
  reason?: string | null;
}

/** An STK push row. */
export interface StkRow {
  id: string;
  checkout_request_id: string;
  merchant_request_id: string | null;
  customer_id: string | null;
  phone: string;
  amount_minor: string;
  account_reference: string;
  status: 'pending' | 'paid' | 'cancelled' | 'timeout' | 'failed';
  result_code: string | null;
  result_desc: string | null;
  mpesa_receipt_number: string | null;
  payment_id: string | null;
  created_at: Date;
  completed_at: Date | null;
}

const TX_SELECT = `SELECT t.id, t.source, t.trans_id, t.trans_type, t.trans_time, t.amount_minor, t.business_short_code, t.bill_ref_number, t.msisdn,
  t.first_name, t.middle_name, t.last_name, t.checkout_request_id, t.status, t.reason, t.customer_id, c.full_name AS customer_name, t.payment_id,
  t.receipt_number, t.received_at, t.processed_at
  FROM mpesa_transactions t LEFT JOIN customers c ON c.id = t.customer_id`;

/** A stored transaction waiting to become a payment. */
export interface ReceivedRow {
  id: string;
  source: 'c2b' | 'stk';
  trans_id: string;
  amount_minor: string;
  bill_ref_number: string | null;
  customer_id: string | null;
  msisdn: string | null;
  paid_at: Date;
}

/** A prompt paid without M-Pesa's receipt, that a paybill confirmation may be the same money as. */
export interface ReceiptlessPrompt {
  checkout_request_id: string;
  payment_id: string | null;
  receipt_number: string | null;
}

/** M-Pesa transactions and STK pushes: with mpesa.sql.ts, the only SQL of the M-Pesa code. */
export class MpesaRepository {
  constructor(private readonly db: Database) {}

  /**
   * Stores a notification unless its TransID is already there (one statement, autocommit: durable
   * before we answer). Returns the row's id and status, new or existing.
   */
  async store(t: NewMpesaTransaction, tx?: Transaction): Promise<{ id: string; status: MpesaTransactionRow['status']; created: boolean }> {
    const rows = await this.db.prepared<{ id: string; status: MpesaTransactionRow['status']; created: boolean }>(
      'mpesa_store',
      `WITH ins AS (${INSERT_SQL})
       SELECT id, status, true AS created FROM ins
       UNION ALL
       SELECT id, status, false FROM mpesa_transactions WHERE trans_id = $2 AND NOT EXISTS (SELECT 1 FROM ins)`,
      storeParams(t),
      tx,
    );
    // a concurrent twin committed after this statement's snapshot: read it in a new one
    const row =
      rows[0] ??
      (
        await this.db.rows<{ id: string; status: MpesaTransactionRow['status']; created: boolean }>(
          `SELECT id, status, false AS created FROM mpesa_transactions WHERE trans_id = $1`,
          [t.transId],
          tx,
        )
      )[0];
    if (!row) throw new Error('storing an M-Pesa transaction returned no row');
    return { id: String(row.id), status: row.status, created: row.created };
  }

  /** Locks a row still waiting to be turned into a payment; undefined when someone else did it. */
  async lockReceived(id: string, tx: Transaction): Promise<ReceivedRow | undefined> {
    return (
      await this.db.prepared<ReceivedRow>(
        'mpesa_lock_received',
        `SELECT id, source, trans_id, amount_minor, bill_ref_number, customer_id, msisdn, received_at AS paid_at
         FROM mpesa_transactions WHERE id = $1 AND status = 'received' FOR UPDATE`,
        [id],
        tx,
      )
    )[0];
  }

  /** {@link RECEIPTLESS_PROMPT} of a stored confirmation. */
  async receiptlessPrompt(
    customerId: string,
    amountMinor: string,
    msisdn: string | null,
    paidAt: Date,
    tx: Transaction,
  ): Promise<ReceiptlessPrompt | undefined> {
    return (
      await this.db.rows<ReceiptlessPrompt>(
        RECEIPTLESS_PROMPT('$1', '$2::bigint', '$3::text', '$4::timestamptz'),
        [customerId, amountMinor, msisdn, paidAt],
        tx,
      )
    )[0];
  }

  /** The receipt number of a ledger entry (a payment). */
  async receiptOfEntry(entryId: string, tx: Transaction): Promise<string | null> {
    return (
      (await this.db.rows<{ receipt_number: string | null }>('SELECT receipt_number FROM ledger_entries WHERE id = $1', [entryId], tx))[0]?.receipt_number ??
      null
    );
  }

  /**
   * The other order: a paybill confirmation already paid this customer the prompt's amount since
   * the prompt was sent (10 minutes' slack), from the prompt's phone when it shows one, and no
   * other prompt has claimed it.
   */
  async confirmationOfPrompt(push: StkRow, tx: Transaction): Promise<{ trans_id: string; payment_id: string | null } | undefined> {
    return (
      await this.db.rows<{ trans_id: string; payment_id: string | null }>(
        `SELECT t.trans_id, t.payment_id FROM mpesa_transactions t
        WHERE t.source = 'c2b' AND t.status = 'matched' AND t.customer_id = $1 AND t.amount_minor = $2::bigint
          AND t.received_at BETWEEN $3::timestamptz - interval '10 minutes' AND $3::timestamptz + interval '10 minutes'
          AND (t.msisdn IS NULL OR t.msisdn !~ '^254[0-9]{9}$' OR t.msisdn = $4)
          AND NOT EXISTS (SELECT 1 FROM mpesa_stk_requests s WHERE s.mpesa_receipt_number = t.trans_id)
        ORDER BY t.received_at LIMIT 1 FOR UPDATE OF t SKIP LOCKED`,
        [push.customer_id, push.amount_minor, push.created_at, push.phone],
        tx,
      )
    )[0];
  }

  /** Records M-Pesa's receipt on a prompt paid without one. */
  async setPromptReceipt(checkoutRequestId: string, receipt: string, tx: Transaction): Promise<void> {
    await this.db.exec(`UPDATE mpesa_stk_requests SET mpesa_receipt_number = $2 WHERE checkout_request_id = $1`, [checkoutRequestId, receipt], tx);
  }

  /** Locks an unmatched row for assignment. */
  async lockUnmatched(id: string, tx: Transaction): Promise<{ id: string; trans_id: string; amount_minor: string; status: string } | undefined> {
    return (
      await this.db.rows<{ id: string; trans_id: string; amount_minor: string; status: string }>(
        `SELECT id, trans_id, amount_minor, status FROM mpesa_transactions WHERE id = $1 FOR UPDATE`,
        [id],
        tx,
      )
    )[0];
  }

  async settle(
    id: string,
    patch: {
      status: 'matched' | 'unmatched' | 'assigned' | 'rejected';
      customerId?: string | null;
      paymentId?: string | null;
      receiptNumber?: string | null;
      reason?: string | null;
      assignedBy?: string | null;
    },
    tx: Transaction,
  ): Promise<void> {
    await this.db.prepared(
      'mpesa_settle',
      `UPDATE mpesa_transactions SET status = $2, customer_id = COALESCE($3::bigint, customer_id), payment_id = $4, receipt_number = $5, reason = $6,
         assigned_by = $7::bigint, processed_at = now() WHERE id = $1`,
      [id, patch.status, patch.customerId ?? null, patch.paymentId ?? null, patch.receiptNumber ?? null, patch.reason ?? null, patch.assignedBy ?? null],
      tx,
    );
  }

  /** The one customer whose account or additional account number is the reference (already normalised). */
  async customerByAccount(account: string, tx: Transaction): Promise<string | undefined> {
    const rows = await this.db.prepared<{ id: string }>('mpesa_customer_by_account', ACCOUNT_MATCH('$1'), [account], tx);
    return rows.length === 1 ? String(rows[0]!.id) : undefined;
  }

  /**
   * A confirmation's first statement, in the transaction that pays it: stores it unless its
   * TransID is there (a twin in flight makes this wait for the twin's commit), and when it is new
   * also finds the one customer of the reference and a receipt-less prompt of that customer that
   * may be the same money. Nothing is re-read: the caller has the values it stored.
   */
  async claim(
    t: NewMpesaTransaction,
    account: string | null,
    phone: string | null,
    tx: Transaction,
  ): Promise<{ id: string; status: MpesaTransactionRow['status']; created: boolean; customerId: string | null; prompt: ReceiptlessPrompt | null }> {
    type Claimed = { id: string; status: MpesaTransactionRow['status']; created: boolean; customer_id: string | null; prompt: ReceiptlessPrompt | null };
    const rows = await this.db.prepared<Claimed>(
      'mpesa_claim',
      `WITH ins AS (${INSERT_SQL}),
       m AS (${ACCOUNT_MATCH('$20::text', 'EXISTS (SELECT 1 FROM ins)')}),
       one AS (SELECT id FROM m WHERE (SELECT count(*) FROM m) = 1),
       prompt AS (${RECEIPTLESS_PROMPT('(SELECT id FROM one)', '$5::bigint', '$21::text', '(SELECT received_at FROM ins)')})
       SELECT id, status, true AS created, (SELECT id::text FROM one) AS customer_id, (SELECT row_to_json(prompt) FROM prompt) AS prompt FROM ins
       UNION ALL
       SELECT id, status, false, NULL, NULL FROM mpesa_transactions WHERE trans_id = $2 AND NOT EXISTS (SELECT 1 FROM ins)`,
      [...storeParams(t), account, phone],
      tx,
    );
    // a twin committed after this statement's snapshot: read it in a new one
    const row =
      rows[0] ??
      (
        await this.db.rows<Claimed>(
          `SELECT id, status, false AS created, NULL AS customer_id, NULL AS prompt FROM mpesa_transactions WHERE trans_id = $1`,
          [t.transId],
          tx,
        )
      )[0];
    if (!row) throw new Error('storing an M-Pesa transaction returned no row');
    return { id: String(row.id), status: row.status, created: row.created, customerId: row.customer_id, prompt: row.prompt };
  }

  /** Stored confirmations nobody has turned into a payment yet (a crash or an outage between store and payment). */
  async waiting(olderThan: Date, limit: number): Promise<string[]> {
    const rows = await this.db.rows<{ id: string }>(`SELECT id FROM mpesa_transactions WHERE status = 'received' AND received_at <= $1 ORDER BY id LIMIT $2`, [
      olderThan,
      limit,
    ]);
    return rows.map((r) => String(r.id));
  }

  async list(filter: { status?: string | undefined }, limit: number, offset: number): Promise<{ rows: MpesaTransactionRow[]; total: number }> {
    const where = filter.status ? 'WHERE t.status = $1' : '';
    const bind = filter.status ? [filter.status] : [];
    const rows = await this.db.rows<MpesaTransactionRow>(`${TX_SELECT} ${where} ORDER BY t.received_at DESC, t.id DESC LIMIT ${limit} OFFSET ${offset}`, bind);
    const count = await this.db.rows<{ n: string }>(`SELECT count(*) AS n FROM mpesa_transactions t ${where}`, bind);
    return { rows, total: Number(count[0]!.n) };
  }
  async get(id: string): Promise<MpesaTransactionRow | undefined> {
    return (await this.db.rows<MpesaTransactionRow>(`${TX_SELECT} WHERE t.id = $1`, [id]))[0];
  }
  async byTransId(transId: string): Promise<MpesaTransactionRow | undefined> {
    return (await this.db.rows<MpesaTransactionRow>(`${TX_SELECT} WHERE t.trans_id = $1`, [transId]))[0];
  }

  // STK pushes
  async createStk(s: {
    checkoutRequestId: string;
    merchantRequestId: string | null;
    customerId: string;
    phone: string;
    amountMinor: bigint;
    accountReference: string;
    requestedBy: string | null;
  }): Promise<void> {
    await this.db.exec(
      `INSERT INTO mpesa_stk_requests (checkout_request_id, merchant_request_id, customer_id, phone, amount_minor, account_reference, requested_by) VALUES ($1, $2, $3, $4, $5::bigint, $6, $7)`,
      [s.checkoutRequestId, s.merchantRequestId, s.customerId, s.phone, s.amountMinor.toString(), s.accountReference, s.requestedBy],
    );
  }
  async stk(checkoutRequestId: string, tx?: Transaction, lock = false): Promise<StkRow | undefined> {
    return (
      await this.db.rows<StkRow>(`SELECT * FROM mpesa_stk_requests WHERE checkout_request_id = $1${lock ? ' FOR UPDATE' : ''}`, [checkoutRequestId], tx)
    )[0];
  }
  async stkOfCustomer(customerId: string, limit: number): Promise<StkRow[]> {
    return this.db.rows<StkRow>(`SELECT * FROM mpesa_stk_requests WHERE customer_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, [customerId, limit]);
  }
  async finishStk(
    checkoutRequestId: string,
    patch: { status: StkRow['status']; resultCode: string | null; resultDesc: string | null; receipt?: string | null; paymentId?: string | null },
    tx?: Transaction,
  ): Promise<void> {
    await this.db.exec(
      `UPDATE mpesa_stk_requests SET status = $2, result_code = $3, result_desc = $4, mpesa_receipt_number = $5, payment_id = $6, completed_at = now() WHERE checkout_request_id = $1 AND status = 'pending'`,
      [checkoutRequestId, patch.status, patch.resultCode, patch.resultDesc, patch.receipt ?? null, patch.paymentId ?? null],
      tx,
    );
  }
  async markQueried(checkoutRequestId: string, note: string | null): Promise<void> {
    await this.db.exec(
      `UPDATE mpesa_stk_requests SET queried_at = now(), result_desc = COALESCE($2, result_desc) WHERE checkout_request_id = $1 AND status = 'pending'`,
      [checkoutRequestId, note],
    );
  }
  /** Pushes with no callback after `before`, least recently queried first. */
  async silentStk(before: Date, limit: number): Promise<StkRow[]> {
    return this.db.rows<StkRow>(
      `SELECT * FROM mpesa_stk_requests WHERE status = 'pending' AND created_at <= $1 AND (queried_at IS NULL OR queried_at <= now() - interval '20 seconds')
       ORDER BY queried_at NULLS FIRST, created_at LIMIT $2`,
      [before, limit],
    );
  }
}
