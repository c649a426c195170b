import { reportFilters } from '$lib/server/reports';
import type { RequestHandler } from './$types';

/** The cash-up of the page's day as CSV. */
export const GET: RequestHandler = async ({ locals, url }) => {
  const settings = await locals.api.settings.get();
  const f = reportFilters(url.searchParams, settings.timezone);
  return locals.api.download('/reports/cash-up', { date: f.date, staffId: f.staffId, format: 'csv' });
};
