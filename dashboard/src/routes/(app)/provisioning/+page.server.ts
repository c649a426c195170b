import { JobStatus } from '@mtandao/protocol';
import type { CustomerView } from '@mtandao/protocol/api';
import type { JobQuery } from '$lib/server/api';
import { zonedToIso } from '$lib/format';
import type { PageServerLoad } from './$types';

const PAGE_SIZE = 50;

export const load: PageServerLoad = async ({ locals, url, parent }) => {
  const { settings } = await parent();
  const q = url.searchParams;
  const get = (k: string) => q.get(k)?.trim() || undefined;
  const filters = { siteId: get('siteId'), routerId: get('routerId'), customer: get('customer'), status: JobStatus.safeParse(get('status')).data, since: get('since'), until: get('until') };
  const page = Math.max(1, Number.parseInt(q.get('page') ?? '1', 10) || 1);

  // staff type a username (or an id); the API filters by id
  let customer: CustomerView | undefined;
  let customerMissing = false;
  if (filters.customer) {
    const found = /^\d+$/.test(filters.customer)
      ? [await locals.api.customers.get(filters.customer).catch(() => undefined)].filter((c) => c !== undefined)
      : (await locals.api.customers.list({ search: filters.customer, pageSize: 10 })).items;
    customer = found.find((c) => c.username.toLowerCase() === filters.customer!.toLowerCase() || c.id === filters.customer) ?? (found.length === 1 ? found[0] : undefined);
    customerMissing = !customer;
  }
  const query: JobQuery = {
    siteId: filters.siteId,
    routerId: filters.routerId,
    customerId: customer?.id,
    status: filters.status,
    since: zonedToIso(filters.since, settings.timezone),
    until: zonedToIso(filters.until, settings.timezone),
    pageSize: PAGE_SIZE,
  };
  const [sites, routers, jobs] = await Promise.all([
    locals.api.sites.list(),
    locals.api.routers.list(),
    customerMissing ? { items: [], total: 0 } : locals.api.jobs.list({ ...query, page }),
  ]);
  return { sites: sites.items, routers: routers.items, jobs: jobs.items, total: jobs.total, filters, query, customer, customerMissing, page, pageSize: PAGE_SIZE };
};
