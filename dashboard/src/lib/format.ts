// Formatting for people: money as "KES 1,500.00", times in the ISP's time zone, labels staff know.
import type { ConnectionType, CustomerStatus, JobStatus, LedgerKind, LedgerSide, PaymentMethod, ValidityUnit } from '@mtandao/protocol';

/** The time zone used until the settings say otherwise. */
export const DEFAULT_TIMEZONE = 'Africa/Nairobi';

/** "1500.00" → "KES 1,500.00"; amounts stay strings end to end (no floating point). */
export function money(amount: string | null | undefined, currency = 'KES'): string {
  if (amount === null || amount === undefined || amount === '') return '—';
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(amount.trim());
  if (!m) return `${currency} ${amount}`;
  const [, sign, whole = '0', frac = ''] = m;
  const grouped = whole.replace(/^0+(?=\d)/, '').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign ? '−' : ''}${currency} ${grouped}.${frac.padEnd(2, '0').slice(0, 2)}`;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string, withTime: boolean): Intl.DateTimeFormat {
  const key = `${timeZone}|${withTime}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      ...(withTime ? { hour: '2-digit', minute: '2-digit', second: undefined, hourCycle: 'h23' } : {}),
    });
    formatters.set(key, f);
  }
  return f;
}

/** "27 Nov 2025, 09:14" in the ISP's time zone. */
export function dateTime(iso: string | null | undefined, timeZone = DEFAULT_TIMEZONE): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : formatter(timeZone, true).format(d);
}

/** "27 Nov 2025" in the ISP's time zone. */
export function date(iso: string | null | undefined, timeZone = DEFAULT_TIMEZONE): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : formatter(timeZone, false).format(d);
}

/** "09:14:07" in the ISP's time zone: for event timelines. */
export function clock(iso: string, timeZone = DEFAULT_TIMEZONE): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(new Date(iso));
}

/** "3 min ago", "in 2 days": for last-seen and expiry hints. */
export function relative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const diff = Date.parse(iso) - now;
  const abs = Math.abs(diff);
  const units: [Intl.RelativeTimeFormatUnit, number][] = [
    ['day', 86_400_000],
    ['hour', 3_600_000],
    ['minute', 60_000],
  ];
  const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
  for (const [unit, ms] of units) if (abs >= ms) return rtf.format(Math.round(diff / ms), unit);
  return abs < 5_000 ? 'just now' : rtf.format(Math.round(diff / 1000), 'second');
}

/** A stored phone (2547XXXXXXXX) as people write it: "+254 712 345 678" (or "0712 345 678" with `local`). */
export function phone(stored: string, local = false): string {
  const m = /^\+?254(\d{3})(\d{3})(\d{3})$/.exec(stored.trim());
  if (!m) return stored;
  return local ? `0${m[1]} ${m[2]} ${m[3]}` : `+254 ${m[1]} ${m[2]} ${m[3]}`;
}

/** "1 hour", "2 hours", "1 entry", "3 entries": a count with its noun, singular or plural. */
export function plural(n: number, singular: string, pluralForm?: string): string {
  const many = pluralForm ?? (/[^aeiou]y$/.test(singular) ? `${singular.slice(0, -1)}ies` : /(s|x|ch|sh)$/.test(singular) ? `${singular}es` : `${singular}s`);
  return `${n.toLocaleString('en')} ${n === 1 ? singular : many}`;
}

/** The singular of a plural noun ("customers" → "customer", "entries" → "entry"). */
export const singular = (noun: string): string =>
  noun
    .replace(/ies$/, 'y')
    .replace(/(ch|sh|x|ss)es$/, '$1')
    .replace(/s$/, '');

export const CONNECTION_LABEL: Record<ConnectionType, string> = { pppoe: 'PPPoE', hotspot: 'Hotspot', static: 'Static' };
export const STATUS_LABEL: Record<CustomerStatus, string> = { active: 'Active', expired: 'Expired', suspended: 'Suspended', inactive: 'Inactive' };
export const METHOD_LABEL: Record<PaymentMethod, string> = { cash: 'Cash', mpesa: 'M-Pesa', bank: 'Bank', cheque: 'Cheque' };
export const KIND_LABEL: Record<LedgerKind, string> = {
  payment: 'Payment',
  plan: 'Plan period',
  installation: 'Installation fee',
  debt: 'Debt',
  adjustment: 'Adjustment',
  reversal: 'Reversal',
};
/** What a ledger entry is, in a cashier's words, by side and kind. */
export const ENTRY_LABEL: Record<LedgerSide, Partial<Record<LedgerKind, string>>> = {
  credit: { payment: 'Payment', adjustment: 'Credit adjustment', reversal: 'Reversal of a charge' },
  charge: { plan: 'Plan period', installation: 'Installation fee', debt: 'Debt', adjustment: 'Charge adjustment', reversal: 'Reversal of a payment' },
};
export const JOB_STATUS_LABEL: Record<JobStatus, string> = { pending: 'Pending', sent: 'Sent to agent', applied: 'Applied', failed: 'Failed' };

/** Badge tone of a customer status (the colour-coded banner). */
export const STATUS_TONE: Record<CustomerStatus, Tone> = { active: 'ok', expired: 'warn', suspended: 'danger', inactive: 'idle' };
/** Badge tone of a provisioning job status. */
export const JOB_TONE: Record<JobStatus, Tone> = { pending: 'idle', sent: 'info', applied: 'ok', failed: 'danger' };
/** The colours a badge comes in. */
export type Tone = 'ok' | 'warn' | 'danger' | 'info' | 'idle';

/** "30 days", "1 hour". */
export function validity(v: { count: number; unit: ValidityUnit }): string {
  return plural(v.count, v.unit.replace(/s$/, ''));
}

/** Bytes as staff read them: "5 GB". */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return 'Unlimited';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}

/** "10M" → "10 Mbps". */
export function speed(rate: string): string {
  const m = /^(\d+(?:\.\d+)?)([kKmMgG]?)$/.exec(rate);
  if (!m) return rate;
  const unit = { k: 'kbps', m: 'Mbps', g: 'Gbps', '': 'bps' }[(m[2] ?? '').toLowerCase()] ?? '';
  return `${m[1]} ${unit}`;
}

/** The UTC offset of a time zone at an instant, in ms. */
function offsetOf(ms: number, timeZone: string): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** A `datetime-local` value ("2025-11-27T09:00") read in the ISP's time zone → ISO UTC; undefined when blank or bad. */
export function zonedToIso(local: string | null | undefined, timeZone = DEFAULT_TIMEZONE): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(local ?? '');
  if (!m) return undefined;
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  let ms = wall - offsetOf(wall, timeZone);
  ms = wall - offsetOf(ms, timeZone); // a second pass settles times near a daylight-saving change
  return new Date(ms).toISOString();
}
