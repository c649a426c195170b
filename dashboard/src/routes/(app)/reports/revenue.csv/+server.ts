import { reportFilters } from '$lib/server/reports';
import type { RequestHandler } from './$types';

/** The revenue report of the page's filters as CSV. */
export const GET: RequestHandler = async ({ locals, url }) => {
  const settings = await locals.api.settings.get();
  const f = reportFilters(url.searchParams, settings.timezone);
  return locals.api.download('/reports/revenue', { from: f.from, to: f.to, groupBy: f.groupBy, format: 'csv' });
};
