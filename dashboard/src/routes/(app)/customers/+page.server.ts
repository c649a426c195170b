import { CustomerStatus } from '@mtandao/protocol';
import { customerQueryFrom } from '$lib/server/customer-query';
import { act, text } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

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

/** The list's filters, as the bulk SMS form carries them. */
const filterOf = (v: Record<string, string>) => {
  const id = (k: string) => (/^\d{1,18}$/.test(v[k] ?? '') ? v[k] : undefined);
  const days = v.expiringWithinDays ?? '';
  return {
    search: text(v, 'search'),
    status: CustomerStatus.safeParse(v.status).data,
    planId: id('planId'),
    siteId: id('siteId'),
    routerId: id('routerId'),
    expiringWithinDays: /^\d{1,3}$/.test(days) ? Number(days) : undefined,
    owing: v.owing === 'true' ? true : undefined,
  };
};

export const actions: Actions = {
  /** Bulk SMS, step 1: how many customers of the list it reaches, and how it reads. */
  preview: (e) =>
    act(e, 'preview', async (api, v) => {
      const message = v.message ?? '';
      if (!message.trim()) return { bulk: null, notice: '', errors: { message: 'Message is required' } };
      const p = await api.sms.bulkPreview({ filter: filterOf(v), message });
      return { bulk: { count: p.count, sample: p.sample, message } };
    }),
  /** Bulk SMS, step 2: queued only if the list still has the count confirmed. */
  send: (e) =>
    act(e, 'send', async (api, v) => {
      const r = await api.sms.bulkSend({ filter: filterOf(v), message: v.message ?? '', confirmCount: Number(v.confirmCount) });
      return `Queued ${r.queued} SMS; each customer's SMS tab shows its delivery.`;
    }),
};
