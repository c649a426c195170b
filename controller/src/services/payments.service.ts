import type { PaymentList, ReceiptView } from '@mtandao/protocol/api';
import type { PaymentMethod } from '@mtandao/protocol';
import { notFound } from '../errors.ts';
import { formatAmount } from '../domain/money.ts';
import { toCsv } from '../lib/csv.ts';
import type { CustomersRepository } from '../repositories/customers.repository.ts';
import type { LedgerRepository, PaymentFilter } from '../repositories/ledger.repository.ts';
import { entryView, iso } from './billing.service.ts';
import type { SettingsService } from './settings.service.ts';

/** Rows of a payments CSV at most. */
const MAX_CSV_ROWS = 100_000;

/** What the Payments page filters on. */
export interface PaymentQuery {
  from?: string | undefined;
  to?: string | undefined;
  method?: PaymentMethod | undefined;
  staffId?: string | undefined;
  customerId?: string | undefined;
}

/** The Payments page (list with totals, CSV) and printable receipts: reads of the ledger. */
export class PaymentsService {
  constructor(
    private readonly ledger: LedgerRepository,
    private readonly customers: CustomersRepository,
    private readonly settings: SettingsService,
  ) {}

  /** `GET /payments`: payments and their reversals, with totals over the whole filter. */
  async list(query: PaymentQuery & { page: number; pageSize: number }): Promise<PaymentList> {
    const { rows, total, byMethod } = await this.ledger.payments(toFilter(query), query.pageSize, (query.page - 1) * query.pageSize);
    return { items: rows.map(entryView), total, totals: totalsOf(byMethod) };
  }

  /** The same list as CSV, every row of the filter, cells safe to open in a spreadsheet. */
  async csv(query: PaymentQuery): Promise<string> {
    const { rows } = await this.ledger.payments(toFilter(query), MAX_CSV_ROWS, 0);
    const header = ['Date (UTC)', 'Receipt', 'Customer', 'Username', 'Method', 'Kind', 'Amount', 'Balance after', 'Reference', 'Staff', 'Note'];
    return toCsv(
      header,
      rows.map((r) => [
        iso(r.created_at),
        r.receipt_number,
        r.customer_name,
        r.customer_username,
        r.method,
        r.kind,
        r.side === 'credit' ? formatAmount(r.amount_minor) : formatAmount(-BigInt(r.amount_minor)),
        formatAmount(r.balance_after_minor),
        r.reference,
        r.staff,
        r.note,
      ]),
    );
  }

  /** A printable receipt of a payment. */
  async receipt(id: string): Promise<ReceiptView> {
    const e = await this.ledger.get(id);
    if (!e || e.kind !== 'payment') throw notFound('Receipt');
    const c = e.customer_id ? await this.customers.findById(e.customer_id) : null;
    const sms = await this.settings.sms();
    return {
      receiptNumber: e.receipt_number!,
      company: sms.companyName,
      customer: { name: e.customer_name, username: e.customer_username, accountNumber: c?.accountNumber ?? null },
      amount: formatAmount(e.amount_minor),
      method: e.method,
      reference: e.reference,
      staff: e.staff,
      createdAt: iso(e.created_at)!,
      balanceAfter: formatAmount(e.balance_after_minor),
      expiresAt: iso(c?.expiresAt ?? null),
      reversed: e.reversed_by_id !== null,
    };
  }
}

function toFilter(q: PaymentQuery): PaymentFilter {
  return { from: q.from ? new Date(q.from) : undefined, to: q.to ? new Date(q.to) : undefined, method: q.method, staffId: q.staffId, customerId: q.customerId };
}

function totalsOf(byMethod: { method: string | null; n: string; amount: string }[]): PaymentList['totals'] {
  const per = { cash: 0n, mpesa: 0n, bank: 0n, cheque: 0n };
  let count = 0;
  let amount = 0n;
  for (const m of byMethod) {
    count += Number(m.n);
    amount += BigInt(m.amount);
    if (m.method && m.method in per) per[m.method as keyof typeof per] += BigInt(m.amount);
  }
  return {
    count,
    amount: formatAmount(amount),
    byMethod: { cash: formatAmount(per.cash), mpesa: formatAmount(per.mpesa), bank: formatAmount(per.bank), cheque: formatAmount(per.cheque) },
  };
}
