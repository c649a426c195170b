import { CustomerStatus } from '@mtandao/protocol';
import { act, text } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

const PAGE_SIZE = 25;

export const load: PageServerLoad = async ({ locals, url }) => {
  const search = url.searchParams.get('search')?.trim() ?? '';
  const status = CustomerStatus.safeParse(url.searchParams.get('status')).data;
  const page = Math.max(1, Number.parseInt(url.searchParams.get('page') ?? '1', 10) || 1);
  const list = await locals.api.customers.list({ search: search || undefined, status, page, pageSize: PAGE_SIZE });
  return { customers: list.items, total: list.total, search, status: status ?? '', page, pageSize: PAGE_SIZE };
};

/** The list's filters, as the bulk SMS form carries them. */
const filterOf = (v: Record<string, string>) => ({ search: text(v, 'search'), status: CustomerStatus.safeParse(v.status).data });

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
