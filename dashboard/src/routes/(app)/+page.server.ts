import type { PageServerLoad } from './$types';

/** The overview: the dashboard's home. Re-run by the page every 30 s while it is visible. */
export const load: PageServerLoad = async ({ locals, depends }) => {
  depends('app:overview');
  return { overview: await locals.api.reports.overview() };
};
