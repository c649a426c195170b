// Daraja's callback payloads, parsed without trust: every field is checked, and a payload that
// fails is described (the reason is stored with it) rather than thrown.

/** An account reference as people type it on a phone: trimmed, upper-cased, no spaces or dashes. */
export const normalizeAccount = (value: string): string =>
  value
    .trim()
    .toUpperCase()
    .replace(/[\s-]+/g, '');

/** A C2B validation or confirmation, field for field as Daraja sends it. */
export interface C2bPayload {
  TransactionType: string | null;
  TransID: string;
  TransTime: string;
  TransAmount: string;
  BusinessShortCode: string;
  BillRefNumber: string;
  InvoiceNumber: string | null;
  OrgAccountBalance: string | null;
  ThirdPartyTransID: string | null;
  MSISDN: string | null;
  FirstName: string | null;
  MiddleName: string | null;
  LastName: string | null;
}

/** A parsed C2B payload, or why it is refused (with whatever could be read, for the record). */
export type C2bParse =
  | { ok: true; value: C2bPayload; amountMinor: bigint; transTime: Date | null; body: Record<string, unknown> }
  | {
      ok: false;
      reason: string;
      code: 'C2B00012' | 'C2B00013' | 'C2B00015' | 'C2B00016';
      partial: Partial<Record<keyof C2bPayload, string>>;
      amountMinor: bigint | null;
      body: Record<string, unknown> | null;
    };

const text = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : null);

/** "10.00" / "10" / 10 → 1000n minor units; anything else (negative, words, >2 decimals) → undefined. */
export function parseMpesaAmount(v: unknown): bigint | undefined {
  const s = text(v)?.trim();
  if (!s) return undefined;
  const m = /^(\d{1,13})(?:\.(\d{1,2}))?$/.exec(s);
  if (!m) return undefined;
  return BigInt(m[1]!) * 100n + BigInt((m[2] ?? '').padEnd(2, '0'));
}

/** "20191122063845" (Kenya time, UTC+3) → a Date; undefined when it is not such a time. */
export function parseTransTime(v: unknown): Date | undefined {
  const s = text(v)?.trim();
  const m = s ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(s) : null;
  if (!m) return undefined;
  const d = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}+03:00`);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Parses the raw body of a C2B validation or confirmation. */
export function parseC2b(raw: string): C2bParse {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return { ok: false, reason: 'Malformed JSON', code: 'C2B00016', partial: {}, amountMinor: null, body: null };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, reason: 'The body is not a JSON object', code: 'C2B00016', partial: {}, amountMinor: null, body: null };
  const b = body as Record<string, unknown>;
  const partial: Partial<Record<keyof C2bPayload, string>> = {};
  const keys: (keyof C2bPayload)[] = [
    'TransactionType',
    'TransID',
    'TransTime',
    'TransAmount',
    'BusinessShortCode',
    'BillRefNumber',
    'InvoiceNumber',
    'OrgAccountBalance',
    'ThirdPartyTransID',
    'MSISDN',
    'FirstName',
    'MiddleName',
    'LastName',
  ];
  for (const k of keys) {
    const v = text(b[k]);
    if (v !== null) partial[k] = v.slice(0, 200);
  }
  const fail = (reason: string, code: 'C2B00012' | 'C2B00013' | 'C2B00015' | 'C2B00016' = 'C2B00016', amountMinor: bigint | null = null): C2bParse => ({
    ok: false,
    reason,
    code,
    partial,
    amountMinor,
    body: b,
  });
  const missing = (['TransID', 'TransAmount', 'BusinessShortCode'] as const).filter((k) => !partial[k]?.trim());
  if (missing.length > 0) return fail(`Missing ${missing.join(', ')}`);
  if (!/^[A-Za-z0-9]{6,20}$/.test(partial.TransID!.trim())) return fail('TransID is not an M-Pesa receipt');
  const amountMinor = parseMpesaAmount(b.TransAmount);
  if (amountMinor === undefined) return fail(`TransAmount "${partial.TransAmount}" is not an amount`, 'C2B00013');
  if (amountMinor <= 0n) return fail('TransAmount must be more than zero', 'C2B00013', amountMinor);
  // a till (Buy Goods) payment has no account: BillRefNumber comes empty
  const billRef = text(b.BillRefNumber) ?? '';
  const transTime = b.TransTime === undefined || b.TransTime === '' ? null : parseTransTime(b.TransTime);
  if (transTime === undefined) return fail(`TransTime "${partial.TransTime}" is not a time like 20191122063845`, 'C2B00016', amountMinor);
  return {
    ok: true,
    amountMinor,
    transTime,
    body: b,
    value: {
      TransactionType: partial.TransactionType ?? null,
      TransID: partial.TransID!.trim(),
      TransTime: partial.TransTime ?? '',
      TransAmount: partial.TransAmount!,
      BusinessShortCode: partial.BusinessShortCode!.trim(),
      BillRefNumber: billRef.slice(0, 100),
      InvoiceNumber: partial.InvoiceNumber ?? null,
      OrgAccountBalance: partial.OrgAccountBalance ?? null,
      ThirdPartyTransID: partial.ThirdPartyTransID ?? null,
      MSISDN: partial.MSISDN ?? null,
      FirstName: partial.FirstName ?? null,
      MiddleName: partial.MiddleName ?? null,
      LastName: partial.LastName ?? null,
    },
  };
}

/** Body.stkCallback of an STK push result. */
export interface StkCallback {
  MerchantRequestID: string | null;
  CheckoutRequestID: string;
  ResultCode: number;
  ResultDesc: string;
  /** CallbackMetadata.Item, by Name (only on success). */
  items: { Amount?: bigint; MpesaReceiptNumber?: string; TransactionDate?: string; PhoneNumber?: string };
}

/** Parses an STK callback; a string says why it is refused. */
export function parseStkCallback(raw: string): StkCallback | string {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return 'Malformed JSON';
  }
  const cb = (body as { Body?: { stkCallback?: unknown } } | null)?.Body?.stkCallback as Record<string, unknown> | undefined;
  if (!cb || typeof cb !== 'object') return 'Missing Body.stkCallback';
  const checkout = text(cb.CheckoutRequestID);
  if (!checkout) return 'Missing CheckoutRequestID';
  const code = Number(text(cb.ResultCode) ?? NaN);
  if (!Number.isInteger(code)) return 'Missing ResultCode';
  const items: StkCallback['items'] = {};
  const list = (cb.CallbackMetadata as { Item?: unknown } | undefined)?.Item;
  if (Array.isArray(list)) {
    for (const it of list as { Name?: unknown; Value?: unknown }[]) {
      if (it?.Name === 'Amount') items.Amount = parseMpesaAmount(typeof it.Value === 'number' ? it.Value.toFixed(2) : it.Value);
      else if (it?.Name === 'MpesaReceiptNumber' && text(it.Value)) items.MpesaReceiptNumber = text(it.Value)!;
      else if (it?.Name === 'TransactionDate' && text(it.Value)) items.TransactionDate = text(it.Value)!;
      else if (it?.Name === 'PhoneNumber' && text(it.Value)) items.PhoneNumber = text(it.Value)!;
    }
  }
  return {
    MerchantRequestID: text(cb.MerchantRequestID),
    CheckoutRequestID: checkout.slice(0, 100),
    ResultCode: code,
    ResultDesc: (text(cb.ResultDesc) ?? '').slice(0, 300),
    items,
  };
}

/** The state an STK ResultCode leaves a push in. */
export function stkOutcome(code: number): 'paid' | 'cancelled' | 'timeout' | 'failed' {
  return code === 0 ? 'paid' : code === 1032 ? 'cancelled' : code === 1037 ? 'timeout' : 'failed';
}
