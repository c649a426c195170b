import type { CashUpView, OverviewView, RevenueView } from '@mtandao/protocol/api';
import { PaymentMethod } from '@mtandao/protocol';
import { FileResult } from '../http/route.ts';
import { toCsv } from '../lib/csv.ts';
import { formatAmount } from '../domain/money.ts';
import { addDays, dayStart, localDay } from '../lib/zoned.ts';
import type { ReportsRepository } from '../repositories/reports.repository.ts';
import type { PoolsService } from './pools.service.ts';

const METHODS = PaymentMethod.options;
const METHOD_LABEL: Record<string, string> = { cash: 'Cash', mpesa: 'M-Pesa', bank: 'Bank', cheque: 'Cheque' };
const SYSTEM = 'System (M-Pesa, automatic)';
type ByMethod = Record<(typeof METHODS)[number], string>;

const csvFile = (name: string, header: string[], rows: (string | number | null)[][]) => new FileResult(toCsv(header, rows), 'text/csv; charset=utf-8', name);

/** The overview (the dashboard's home), revenue reports and the daily cash-up. */
export class ReportsService {
  constructor(
    private readonly repo: ReportsRepository,
    private readonly pools: Pick<PoolsService, 'list'>,
    private readonly settings: { timezone: string; currency: string },
  ) {}

  async overview(): Promise<OverviewView> {
    const tz = this.settings.timezone;
    const today = localDay(tz);
    const monthStart = `${today.slice(0, 8)}01`;
    const chartStart = addDays(today, -29);
    const bounds = {
      today,
      monthStart,
      from: dayStart(monthStart < chartStart ? monthStart : chartStart, tz),
      todayEnd: dayStart(addDays(today, 1), tz),
      weekEnd: dayStart(addDays(today, 8), tz),
    };
    const [r, unmatched, pools] = await Promise.all([this.repo.overview(tz, bounds), this.repo.unmatchedPayments(), this.pools.list()]);
    const s = r.by_status ?? {};
    const count = (k: string) => Number(s[k] ?? 0);
    const customers = { active: count('active'), expired: count('expired'), suspended: count('suspended'), inactive: count('inactive') };
    const total = customers.active + customers.expired + customers.suspended + customers.inactive;
    // 30 days, oldest first, every day present (a day without payments is a zero, not a gap)
    const byDay = new Map((r.revenue_by_day ?? []).map((d) => [d.day, d]));
    const snapshots = new Map((r.active_by_day ?? []).map((d) => [d.day, d]));
    const days = Array.from({ length: 30 }, (_, i) => addDays(r.today, i - 29));
    return {
      generatedAt: new Date().toISOString(),
      timezone: tz,
      currency: this.settings.currency,
      today: r.today,
      customers: { total, ...customers, owing: r.owing },
      expiring: { today: r.expiring_today, next7Days: r.expiring_7 },
      revenue: {
        today: formatAmount(r.revenue_today),
        todayCount: r.count_today,
        month: formatAmount(r.revenue_month),
        monthCount: r.count_month,
        monthStart: r.month_start,
      },
      unmatchedPayments: unmatched,
      routers: { total: r.routers_up + r.routers_down + r.routers_unknown, up: r.routers_up, down: r.routers_down, unknown: r.routers_unknown },
      agents: { online: r.agents_online, offline: r.agents_offline },
      jobs: { pending: r.jobs_pending, failed: r.jobs_failed, failedSince: new Date(r.failed_since).toISOString() },
      revenueByDay: days.map((day) => ({ day, amount: formatAmount(byDay.get(day)?.amount ?? 0), count: Number(byDay.get(day)?.count ?? 0) })),
      // past days from the daily snapshots (none before the controller first ran), today live
      activeByDay: days.map((day) =>
        day === r.today
          ? { day, active: customers.active, total }
          : { day, active: snapshots.get(day)?.active ?? null, total: snapshots.get(day)?.total ?? null },
      ),
      pools: pools.items.map((p) => ({ id: p.id, name: p.name, routerName: p.routerName, used: p.used, usable: p.usable, utilisation: p.utilisation })),
    };
  }

  /** The range of a report: both days given, or this month so far; `from` after `to` is refused. */
  private range(from: string | undefined, to: string | undefined): { from: string; to: string } {
    const today = localDay(this.settings.timezone);
    const end = to ?? today;
    const start = from ?? `${end.slice(0, 8)}01`;
    return { from: start, to: end };
  }

  async revenue(q: {
    from?: string | undefined;
    to?: string | undefined;
    groupBy: 'day' | 'plan' | 'method' | 'staff';
    format?: 'json' | 'csv' | undefined;
  }): Promise<RevenueView | FileResult> {
    const { from, to } = this.range(q.from, q.to);
    const [rows, byMethodRows] = await Promise.all([
      this.repo.revenue(this.settings.timezone, from, to, q.groupBy),
      q.groupBy === 'method' ? Promise.resolve(undefined) : this.repo.revenue(this.settings.timezone, from, to, 'method'),
    ]);
    const methods = byMethodRows ?? rows;
    const byMethod = Object.fromEntries(METHODS.map((m) => [m, formatAmount(methods.find((r) => r.key === m)?.amount_minor ?? 0)])) as ByMethod;
    const label = (key: string | null, l: string | null) =>
      q.groupBy === 'method'
        ? (METHOD_LABEL[key ?? ''] ?? key ?? '—')
        : q.groupBy === 'staff'
          ? (l ?? SYSTEM)
          : q.groupBy === 'plan'
            ? (l ?? 'Customer deleted')
            : (l ?? '');
    const view: RevenueView = {
      from,
      to,
      groupBy: q.groupBy,
      rows: rows.map((r) => ({ key: r.key, label: label(r.key, r.label), count: r.count, amount: formatAmount(r.amount_minor) })),
      total: {
        count: rows.reduce((n, r) => n + r.count, 0),
        amount: formatAmount(rows.reduce((n, r) => n + BigInt(r.amount_minor), 0n)),
        byMethod,
      },
    };
    if (q.format !== 'csv') return view;
    const head = { day: 'day', plan: 'plan', method: 'method', staff: 'staff' }[q.groupBy];
    return csvFile(
      `revenue-by-${q.groupBy}-${from}-to-${to}.csv`,
      [head, 'payments', 'amount'],
      [...view.rows.map((r) => [r.label, r.count, r.amount]), ['Total', view.total.count, view.total.amount]],
    );
  }

  async cashUp(q: { date?: string | undefined; staffId?: string | undefined; format?: 'json' | 'csv' | undefined }): Promise<CashUpView | FileResult> {
    const date = q.date ?? localDay(this.settings.timezone);
    const rows = await this.repo.cashUp(this.settings.timezone, date, q.staffId);
    const zero = () => Object.fromEntries(METHODS.map((m) => [m, 0n])) as Record<string, bigint>;
    const staff = new Map<string, { staffId: string | null; staff: string; count: number; sums: Record<string, bigint> }>();
    const totals = zero();
    let count = 0;
    for (const r of rows) {
      const key = r.staff_id ?? 'system';
      const s = staff.get(key) ?? { staffId: r.staff_id, staff: r.staff ?? SYSTEM, count: 0, sums: zero() };
      s.count += r.count;
      s.sums[r.method] = (s.sums[r.method] ?? 0n) + BigInt(r.amount_minor);
      totals[r.method] = (totals[r.method] ?? 0n) + BigInt(r.amount_minor);
      count += r.count;
      staff.set(key, s);
    }
    const methods = (sums: Record<string, bigint>) => Object.fromEntries(METHODS.map((m) => [m, formatAmount(sums[m] ?? 0n)])) as ByMethod;
    const sum = (sums: Record<string, bigint>) => formatAmount(Object.values(sums).reduce((a, b) => a + b, 0n));
    const view: CashUpView = {
      date,
      rows: [...staff.values()].map((s) => ({ staffId: s.staffId, staff: s.staff, count: s.count, byMethod: methods(s.sums), total: sum(s.sums) })),
      totals: { count, byMethod: methods(totals), total: sum(totals) },
    };
    if (q.format !== 'csv') return view;
    return csvFile(
      `cash-up-${date}.csv`,
      ['staff', 'payments', ...METHODS.map((m) => METHOD_LABEL[m]!), 'total'],
      [
        ...view.rows.map((r) => [r.staff, r.count, ...METHODS.map((m) => r.byMethod[m]), r.total]),
        ['Total', view.totals.count, ...METHODS.map((m) => view.totals.byMethod[m]), view.totals.total],
      ],
    );
  }

  /** Keeps today's customer counts for the chart; several controllers may run it, the upsert agrees. */
  snapshot(): Promise<void> {
    return this.repo.snapshot(this.settings.timezone);
  }
}
