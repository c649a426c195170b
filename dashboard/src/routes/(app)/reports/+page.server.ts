import { error } from '@sveltejs/kit';
import { reportFilters } from '$lib/server/reports';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url, parent }) => {
  const { settings, canWrite } = await parent();
  if (!canWrite) error(403, 'Reports are for admins and staff');
  const f = reportFilters(url.searchParams, settings.timezone);
  const [revenue, cashUp] = await Promise.all([
    locals.api.reports.revenue({ from: f.from, to: f.to, groupBy: f.groupBy }),
    locals.api.reports.cashUp({ date: f.date, staffId: f.staffId }),
  ]);
  return { filters: f, revenue, cashUp, query: url.searchParams.toString() };
};
