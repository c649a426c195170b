import { CustomerStatus } from '@mtandao/protocol';
import { CustomerSort } from '@mtandao/protocol/api';
import type { CustomerQuery } from './api';

/** The filters of the customer list as they stand in its URL (also the export link's). */
export function customerQueryFrom(url: URL): Omit<CustomerQuery, 'page' | 'pageSize'> {
  const q = url.searchParams;
  const get = (k: string) => q.get(k)?.trim() || undefined;
  const id = (k: string) => (/^\d{1,18}$/.test(get(k) ?? '') ? get(k) : undefined);
  const days = get('expiringWithinDays');
  const order = get('order');
  return {
    search: get('search'),
    status: CustomerStatus.safeParse(get('status')).data,
    planId: id('planId'),
    siteId: id('siteId'),
    routerId: id('routerId'),
    expiringWithinDays: days && /^\d{1,3}$/.test(days) ? Number(days) : undefined,
    owing: get('owing') === 'true' || get('owing') === 'on' ? true : undefined,
    sort: CustomerSort.safeParse(get('sort')).data,
    order: order === 'asc' || order === 'desc' ? order : undefined,
  };
}
