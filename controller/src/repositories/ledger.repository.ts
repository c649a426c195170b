import type { Transaction } from 'sequelize';
import type { Database } from '../db/database.ts';
import type { AuditRecord } from './audit.repository.ts';

/** An entry to append. */
export interface NewEntry {
  side: 'credit' | 'charge';
  kind: 'payment' | 'adjustment' | 'reversal' | 'plan' | 'installation' | 'debt';
  method?: string | null;
  amountMinor: bigint;
  reference?: string | null;
  note?: string | null;
  reversesId?: string | null;
  planId?: string | null;
  periodStart?: Date | null;
  periodEnd?: Date | null;
}

/** A renewal written with the entries that pay for it. */
export interface Renewal {
  expiresAt: Date | null;
  status: string;
  /** the plan the customer is on from now (its scheduled next plan is cleared) */
  switchTo?: string;
}

/** A ledger entry joined with what its view shows. */
export interface LedgerRow {
  id: string;
  customer_id: string | null;
  customer_name: string | null;
  customer_username: string;
  side: 'credit' | 'charge';
  kind: NewEntry['kind'];
  method: 'cash' | 'mpesa' | 'bank' | 'cheque' | null;
  amount_minor: string;
  balance_after_minor: string;
  reference: string | null;
  note: string | null;
  receipt_number: string | null;
  reverses_id: string | null;
  reversed_by_id: string | null;
  staff: string | null;
  staff_user_id: string | null;
  plan_id: string | null;
  period_start: Date | null;
  period_end: Date | null;
  created_at: Date;
}

/** Filters of `GET /payments`. */
export interface PaymentFilter {
  from?: Date | undefined;
  to?: Date | undefined;
  method?: string | undefined;
  staffId?: string | undefined;
  customerId?: string | undefined;
}

const SELECT = `
  SELECT e.id::text, e.customer_id::text, c.full_name AS customer_name, e.customer_username, e.side, e.kind, e.method, e.amount_minor::text,
         e.balance_after_minor::text, e.reference, e.note, e.receipt_number, e.reverses_id::text,
         (SELECT r.id::text FROM ledger_entries r WHERE r.reverses_id = e.id) AS reversed_by_id,
         u.username AS staff, e.staff_user_id::text, e.plan_id::text, e.period_start, e.period_end, e.created_at
    FROM ledger_entries e
    LEFT JOIN customers c ON c.id = e.customer_id
    LEFT JOIN users u ON u.id = e.staff_user_id`;

/** Receipt numbers: R and the sequence, six digits at least. */
export const RECEIPT_SQL = `'R' || lpad(nextval('ledger_receipt_seq')::text, 6, '0')`;

/** The append-only account of each customer. Only this repository writes ledger_entries. */
export class LedgerRepository {
  constructor(private readonly db: Database) {}

  /**
   * Appends entries to one customer's account and moves the cached balance, in ONE statement: the
   * UPDATE locks the customer row, each entry's balance_after is the running balance, payments get
   * receipt numbers. `renew` is a renewal the same UPDATE writes (the period's end and status, the
   * plan switched onto); `audit` an audit line written with them, its details given the first
   * entry's `entryId` and `receiptNumber`. Returns the entries in order.
   */
  async append(
    customerId: string,
    entries: NewEntry[],
    staffUserId: string | null,
    tx: Transaction,
    renew?: Renewal,
    audit?: AuditRecord,
  ): Promise<{ id: string; kind: string; receipt_number: string | null; balance_after_minor: string }[]> {
    if (entries.length === 0) return [];
    const signed = entries.map((e) => (e.side === 'credit' ? e.amountMinor : -e.amountMinor).toString());
    return this.db.prepared(
      'ledger.append',
      `WITH x AS (
         SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::timestamptz[], $12::timestamptz[])
           WITH ORDINALITY AS x(side, kind, method, amount, signed, reference, note, reverses_id, plan_id, period_start, period_end, ord)),
       c AS (
         UPDATE customers SET balance_minor = balance_minor + (SELECT sum(signed) FROM x), updated_at = now(),
                expires_at = CASE WHEN $14::boolean THEN $15::timestamptz ELSE expires_at END, status = COALESCE($16, status),
                activated_at = CASE WHEN $14::boolean THEN COALESCE(activated_at, now()) ELSE activated_at END,
                plan_id = CASE WHEN $17::boolean THEN $18::bigint ELSE plan_id END, next_plan_id = CASE WHEN $17::boolean THEN NULL ELSE next_plan_id END
          WHERE id = $1
         RETURNING id, username, balance_minor - (SELECT sum(signed) FROM x) AS before),
       w AS (
         INSERT INTO ledger_entries (customer_id, customer_username, side, kind, method, amount_minor, balance_after_minor, reference, note, receipt_number,
                                     reverses_id, plan_id, period_start, period_end, staff_user_id)
         SELECT c.id, c.username, x.side, x.kind, x.method, x.amount, c.before + sum(x.signed) OVER (ORDER BY x.ord), x.reference, x.note,
                CASE WHEN x.kind = 'payment' THEN ${RECEIPT_SQL} END, x.reverses_id, x.plan_id, x.period_start, x.period_end, $13
           FROM c, x ORDER BY x.ord
         RETURNING id, kind, receipt_number, balance_after_minor),
       a AS (
         INSERT INTO audit_log (user_id, username, action, entity, entity_id, details, request_id, ip)
         SELECT $19::bigint, $20, $21, $22, $23, $24::jsonb || jsonb_build_object('entryId', w.id::text, 'receiptNumber', w.receipt_number), $25, $26
           FROM w WHERE $21::text IS NOT NULL ORDER BY w.id LIMIT 1)
       SELECT id::text, kind, receipt_number, balance_after_minor::text FROM w ORDER BY id`,
      [
        customerId,
        entries.map((e) => e.side),
        entries.map((e) => e.kind),
        entries.map((e) => e.method ?? null),
        entries.map((e) => e.amountMinor.toString()),
        signed,
        entries.map((e) => e.reference ?? null),
        entries.map((e) => e.note ?? null),
        entries.map((e) => e.reversesId ?? null),
        entries.map((e) => e.planId ?? null),
        entries.map((e) => e.periodStart ?? null),
        entries.map((e) => e.periodEnd ?? null),
        staffUserId,
        renew !== undefined,
        renew?.expiresAt ?? null,
        renew?.status ?? null,
        renew?.switchTo !== undefined,
        renew?.switchTo ?? null,
        audit?.userId ?? null,
        audit?.username ?? null,
        audit?.action ?? null,
        audit?.entity ?? null,
        audit?.entityId ?? null,
        JSON.stringify(audit?.details ?? {}),
        audit?.requestId ?? null,
        audit?.ip ?? null,
      ],
      tx,
    );
  }

  async get(id: string, tx?: Transaction, lock = false): Promise<LedgerRow | undefined> {
    // FOR UPDATE OF e: two admins reversing one entry queue here (and the unique reverses_id decides)
    return (await this.db.rows<LedgerRow>(`${SELECT} WHERE e.id = $1${lock ? ' FOR UPDATE OF e' : ''}`, [id], tx))[0];
  }

  async byIds(ids: string[], tx?: Transaction): Promise<LedgerRow[]> {
    if (ids.length === 0) return [];
    return this.db.rows<LedgerRow>(`${SELECT} WHERE e.id = ANY($1::bigint[]) ORDER BY e.id`, [ids], tx);
  }

  /** A customer's entries, newest first. */
  async ofCustomer(customerId: string, limit: number, offset: number): Promise<{ rows: LedgerRow[]; total: number }> {
    const rows = await this.db.rows<LedgerRow>(`${SELECT} WHERE e.customer_id = $1 ORDER BY e.id DESC LIMIT ${Number(limit)} OFFSET ${Number(offset)}`, [
      customerId,
    ]);
    const count = await this.db.rows<{ n: string }>('SELECT count(*) AS n FROM ledger_entries WHERE customer_id = $1', [customerId]);
    return { rows, total: Number(count[0]?.n ?? 0) };
  }

  private paymentWhere(f: PaymentFilter): { where: string; bind: unknown[] } {
    const bind: unknown[] = [];
    const param = (v: unknown) => {
      bind.push(v);
      return `$${bind.length}`;
    };
    // payments, and the reversals of payments
    const conds = [
      `(e.kind = 'payment' OR (e.kind = 'reversal' AND EXISTS (SELECT 1 FROM ledger_entries o WHERE o.id = e.reverses_id AND o.kind = 'payment')))`,
    ];
    if (f.from) conds.push(`e.created_at >= ${param(f.from)}`);
    if (f.to) conds.push(`e.created_at < ${param(f.to)}`);
    if (f.method) conds.push(`e.method = ${param(f.method)}`);
    if (f.staffId) conds.push(`e.staff_user_id = ${param(f.staffId)}`);
    if (f.customerId) conds.push(`e.customer_id = ${param(f.customerId)}`);
    return { where: `WHERE ${conds.join(' AND ')}`, bind };
  }

  /** Payments and their reversals, newest first, with totals over the whole filter. */
  async payments(
    f: PaymentFilter,
    limit: number | null,
    offset: number,
  ): Promise<{ rows: LedgerRow[]; total: number; byMethod: { method: string; n: string; amount: string }[] }> {
    const { where, bind } = this.paymentWhere(f);
    const rows = await this.db.rows<LedgerRow>(
      `${SELECT} ${where} ORDER BY e.created_at DESC, e.id DESC${limit === null ? '' : ` LIMIT ${Number(limit)} OFFSET ${Number(offset)}`}`,
      bind,
    );
    const byMethod = await this.db.rows<{ method: string; n: string; amount: string }>(
      `SELECT e.method, count(*) FILTER (WHERE e.kind = 'payment')::text AS n,
              sum(CASE WHEN e.side = 'credit' THEN e.amount_minor ELSE -e.amount_minor END)::text AS amount
         FROM ledger_entries e ${where} GROUP BY e.method`,
      bind,
    );
    const total = await this.db.rows<{ n: string }>(`SELECT count(*)::text AS n FROM ledger_entries e ${where}`, bind);
    return { rows, total: Number(total[0]?.n ?? 0), byMethod };
  }
}
