import { JobStatus } from '@mtandao/protocol';
import type { JobQuery } from '$lib/server/api';
import { zonedToIso } from '$lib/format';
import type { PageServerLoad } from './$types';

const PAGE_SIZE = 50;

export const load: PageServerLoad = async ({ locals, url, parent }) => {
  const { settings } = await parent();
  const q = url.searchParams;
  const get = (k: string) => q.get(k)?.trim() || undefined;
  const filters = {
    siteId: get('siteId'),
    routerId: get('routerId'),
    customer: get('customer'),
    status: JobStatus.safeParse(get('status')).data,
    since: get('since'),
    until: get('until'),
  };
  const page = Math.max(1, Number.parseInt(q.get('page') ?? '1', 10) || 1);

  // staff type a username (also of a deleted customer) or a customer id
  const byId = filters.customer && /^\d+$/.test(filters.customer);
  const query: JobQuery = {
    siteId: filters.siteId,
    routerId: filters.routerId,
    customerId: byId ? filters.customer : undefined,
    customerUsername: byId ? undefined : filters.customer,
    status: filters.status,
    since: zonedToIso(filters.since, settings.timezone),
    until: zonedToIso(filters.until, settings.timezone),
    pageSize: PAGE_SIZE,
  };
  const [sites, routers, jobs] = await Promise.all([locals.api.sites.list(), locals.api.routers.list(), locals.api.jobs.list({ ...query, page })]);
  return { sites: sites.items, routers: routers.items, jobs: jobs.items, total: jobs.total, filters, query, page, pageSize: PAGE_SIZE };
};
