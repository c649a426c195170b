import { error } from '@sveltejs/kit';
import { zonedToIso } from '$lib/format';
import type { PageServerLoad } from './$types';

const PAGE_SIZE = 50;

export const load: PageServerLoad = async ({ locals, url, parent }) => {
  const { user, settings } = await parent();
  if (user.role !== 'admin') error(403, 'The audit log is for admins');
  const q = url.searchParams;
  const get = (k: string) => q.get(k)?.trim() || undefined;
  const filters = { actor: get('actor'), entity: get('entity'), entityId: get('entityId'), action: get('action'), from: get('from'), to: get('to') };
  const page = Math.max(1, Number.parseInt(q.get('page') ?? '1', 10) || 1);
  const list = await locals.api.audit.list({
    ...filters,
    from: zonedToIso(filters.from, settings.timezone),
    to: zonedToIso(filters.to, settings.timezone),
    page,
    pageSize: PAGE_SIZE,
  });
  return { entries: list.items, total: list.total, filters, page, pageSize: PAGE_SIZE };
};
