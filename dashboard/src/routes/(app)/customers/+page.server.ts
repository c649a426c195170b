import { CustomerStatus } from '@mtandao/protocol';
import type { PageServerLoad } from './$types';

const PAGE_SIZE = 25;

export const load: PageServerLoad = async ({ locals, url }) => {
  const search = url.searchParams.get('search')?.trim() ?? '';
  const status = CustomerStatus.safeParse(url.searchParams.get('status')).data;
  const page = Math.max(1, Number.parseInt(url.searchParams.get('page') ?? '1', 10) || 1);
  const list = await locals.api.customers.list({ search: search || undefined, status, page, pageSize: PAGE_SIZE });
  return { customers: list.items, total: list.total, search, status: status ?? '', page, pageSize: PAGE_SIZE };
};
