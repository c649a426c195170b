import { customerQueryFrom } from '$lib/server/customer-query';
import type { PageServerLoad } from './$types';

const PAGE_SIZE = 25;

export const load: PageServerLoad = async ({ locals, url }) => {
  const filters = customerQueryFrom(url);
  const page = Math.max(1, Number.parseInt(url.searchParams.get('page') ?? '1', 10) || 1);
  const [list, plans, sites, routers] = await Promise.all([
    locals.api.customers.list({ ...filters, page, pageSize: PAGE_SIZE }),
    locals.api.plans.list(),
    locals.api.sites.list(),
    locals.api.routers.list(),
  ]);
  return {
    customers: list.items,
    total: list.total,
    filters,
    search: filters.search ?? '',
    status: filters.status ?? '',
    plans: plans.items.map((p) => ({ id: p.id, name: p.name })),
    sites: sites.items.map((s) => ({ id: s.id, name: s.name })),
    routers: routers.items.map((r) => ({ id: r.id, name: r.name, siteName: r.siteName })),
    page,
    pageSize: PAGE_SIZE,
  };
};
