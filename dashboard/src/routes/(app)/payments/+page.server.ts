import type { UserView } from '@mtandao/protocol/api';
import { paymentFilters, paymentQuery, resolveCustomer } from '$lib/server/payments';
import type { PageServerLoad } from './$types';

const PAGE_SIZE = 50;

export const load: PageServerLoad = async ({ locals, url, parent }) => {
  const { settings, user } = await parent();
  const filters = paymentFilters(url.searchParams, settings.timezone);
  const page = Math.max(1, Number.parseInt(url.searchParams.get('page') ?? '1', 10) || 1);
  const [who, staff] = await Promise.all([
    resolveCustomer(locals.api, filters),
    // the staff list is an admin's; others filter on themselves
    user.role === 'admin' ? locals.api.users.list().then((r) => r.items) : Promise.resolve<UserView[] | null>(null),
  ]);
  const query = paymentQuery(filters, settings.timezone, who.customer?.id);
  // a typed customer that matches several (or none) lists nothing until one is picked
  const pending = !!filters.customer && !who.customer;
  const payments = pending ? { items: [], total: 0, totals: null } : await locals.api.payments.list({ ...query, page, pageSize: PAGE_SIZE });
  const exportQuery = new URLSearchParams(url.searchParams);
  exportQuery.delete('page');
  if (who.customer) {
    exportQuery.delete('customer');
    exportQuery.set('customerId', who.customer.id);
  }
  return {
    filters,
    staff,
    customer: who.customer ?? null,
    matches: who.matches,
    notFound: who.notFound,
    ...payments,
    page,
    pageSize: PAGE_SIZE,
    exportHref: `/payments/export.csv?${exportQuery}`,
  };
};
