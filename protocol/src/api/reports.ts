import * as z from 'zod';
import { blankAsAbsent, IsoInstant, OptionalId, PageQuery } from './common.ts';

/** A calendar day in the ISP's time zone, "2026-12-01". */
const Day = (label: string) =>
  z
    .string({ error: `${label} must be a date like 2026-12-01` })
    .trim()
    .regex(/^\d{4}-\d{2}-\d{2}$/, `${label} must be a date like 2026-12-01`)
    .refine((v) => !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v), `${label} is not a real date`);

const Format = blankAsAbsent(z.enum(['json', 'csv'], { error: 'format must be json or csv' }));
const ByMethod = z.object({ cash: z.string(), mpesa: z.string(), bank: z.string(), cheque: z.string() });

/** `GET /reports/overview`: the home page's figures (amounts are decimal strings; days are the ISP's). */
export const OverviewView = z.object({
  generatedAt: z.string(),
  timezone: z.string(),
  currency: z.string(),
  today: z.string(),
  customers: z.object({
    total: z.number().int(),
    active: z.number().int(),
    expired: z.number().int(),
    suspended: z.number().int(),
    inactive: z.number().int(),
    owing: z.number().int(),
  }),
  /** Active customers expiring by the end of today, and by the end of the 7th day from today. */
  expiring: z.object({ today: z.number().int(), next7Days: z.number().int() }),
  revenue: z.object({ today: z.string(), todayCount: z.number().int(), month: z.string(), monthCount: z.number().int(), monthStart: z.string() }),
  /** M-Pesa payments waiting to be assigned; null where the M-Pesa queue is not installed. */
  unmatchedPayments: z.number().int().nullable(),
  routers: z.object({ total: z.number().int(), up: z.number().int(), down: z.number().int(), unknown: z.number().int() }),
  agents: z.object({ online: z.number().int(), offline: z.number().int() }),
  jobs: z.object({ pending: z.number().int(), failed: z.number().int(), failedSince: z.string() }),
  revenueByDay: z.array(z.object({ day: z.string(), amount: z.string(), count: z.number().int() })),
  activeByDay: z.array(z.object({ day: z.string(), active: z.number().int().nullable(), total: z.number().int().nullable() })),
  pools: z.array(
    z.object({ id: z.string(), name: z.string(), routerName: z.string(), used: z.number().int(), usable: z.number().int(), utilisation: z.number() }),
  ),
});
/** The overview. */
export type OverviewView = z.infer<typeof OverviewView>;

/** How revenue is grouped. */
export const RevenueGroupBy = z.enum(['day', 'plan', 'method', 'staff'], { error: 'groupBy must be day, plan, method or staff' });

/** `GET /reports/revenue`: `from`/`to` are days in the ISP's time zone, both included (default: this month). */
export const RevenueQuery = z.object({
  from: blankAsAbsent(Day('from')),
  to: blankAsAbsent(Day('to')),
  groupBy: blankAsAbsent(RevenueGroupBy).transform((v) => v ?? 'day'),
  format: Format,
});

/** One line of the revenue report: money received (payments less their reversals). */
export const RevenueRow = z.object({ key: z.string().nullable(), label: z.string(), count: z.number().int(), amount: z.string() });
/** The revenue report. */
export const RevenueView = z.object({
  from: z.string(),
  to: z.string(),
  groupBy: RevenueGroupBy,
  rows: z.array(RevenueRow),
  total: z.object({ count: z.number().int(), amount: z.string(), byMethod: ByMethod }),
});
/** The revenue report. */
export type RevenueView = z.infer<typeof RevenueView>;

/** `GET /reports/cash-up?date=&staffId=`: what each staff member took on one day, by method. */
export const CashUpQuery = z.object({ date: blankAsAbsent(Day('date')), staffId: OptionalId('Staff'), format: Format });
/** One staff member's takings of the day. */
export const CashUpRow = z.object({ staffId: z.string().nullable(), staff: z.string(), count: z.number().int(), byMethod: ByMethod, total: z.string() });
/** The cash-up of one day. */
export const CashUpView = z.object({
  date: z.string(),
  rows: z.array(CashUpRow),
  totals: z.object({ count: z.number().int(), byMethod: ByMethod, total: z.string() }),
});
/** The cash-up of one day. */
export type CashUpView = z.infer<typeof CashUpView>;

/** `GET /audit`: who did what, filtered. */
export const AuditQuery = PageQuery.extend({
  actor: z.string().trim().max(64).optional(),
  entity: z.string().trim().max(40).optional(),
  entityId: z.string().trim().max(40).optional(),
  action: z.string().trim().max(60).optional(),
  from: blankAsAbsent(IsoInstant('from')),
  to: blankAsAbsent(IsoInstant('to')),
});
/** An audit log entry. */
export const AuditEntryView = z.object({
  id: z.string(),
  at: z.string(),
  username: z.string().nullable(),
  action: z.string(),
  entity: z.string(),
  entityId: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  requestId: z.string().nullable(),
  ip: z.string().nullable(),
});
/** An audit log entry. */
export type AuditEntryView = z.infer<typeof AuditEntryView>;
