import { CashUpQuery, CashUpView, OverviewView, RevenueQuery, RevenueView } from '@mtandao/protocol/api';
import type { Services } from '../container.ts';
import { invalid } from '../errors.ts';
import { route } from '../http/route.ts';

/** `from` after `to` is a mistake worth naming. */
function checkRange(q: { from?: string | undefined; to?: string | undefined }): void {
  if (q.from && q.to && q.from > q.to) throw invalid('from', 'from must be on or before to');
}

export function reportRoutes(s: Services) {
  return [
    route({
      method: 'get',
      path: '/reports/overview',
      tag: 'Reports',
      access: 'read',
      summary: 'The dashboard home: customers, expiries, revenue, M-Pesa queue, routers, agents, jobs and the charts',
      response: OverviewView,
      handler: async () => s.reports.overview(),
    }),
    route({
      method: 'get',
      path: '/reports/revenue',
      tag: 'Reports',
      access: 'write',
      summary: 'Money received (payments less reversals) by day, plan, method or staff between two days; format=csv',
      query: RevenueQuery,
      response: RevenueView,
      handler: async (ctx) => {
        checkRange(ctx.query);
        return s.reports.revenue(ctx.query);
      },
    }),
    route({
      method: 'get',
      path: '/reports/cash-up',
      tag: 'Reports',
      access: 'write',
      summary: "A day's takings per staff member by method, for the end-of-day count; format=csv",
      query: CashUpQuery,
      response: CashUpView,
      handler: async (ctx) => s.reports.cashUp(ctx.query),
    }),
  ];
}
