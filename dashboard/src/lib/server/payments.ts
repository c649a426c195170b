import { PaymentMethod } from '@mtandao/protocol';
import type { CustomerView } from '@mtandao/protocol/api';
import type { Controller, PaymentQuery } from './api';
import { zonedToIso } from '$lib/format';

/** The filters of the Payments page as typed: dates are whole days in the ISP's time zone, both ends included. */
export type PaymentFilters = {
  from: string;
  to: string;
  method: PaymentMethod | undefined;
  staffId: string | undefined;
  customer: string | undefined;
  customerId: string | undefined;
};

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** A calendar day ("2026-12-01") in a time zone. */
export function today(timeZone: string, now = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

const nextDay = (day: string): string => {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
};

/** Reads the filters from the page's URL; the range defaults to this month so far. */
export function paymentFilters(q: URLSearchParams, timeZone: string): PaymentFilters {
  const get = (k: string) => q.get(k)?.trim() || undefined;
  const now = today(timeZone);
  const from = get('from');
  const to = get('to');
  return {
    from: from && DAY.test(from) ? from : `${now.slice(0, 8)}01`,
    to: to && DAY.test(to) ? to : now,
    method: PaymentMethod.safeParse(get('method')).data,
    staffId: get('staffId'),
    customer: get('customer'),
    customerId: get('customerId'),
  };
}

/** The API query of the filters: local days become UTC instants, `to` exclusive (the day after the last one shown). */
export function paymentQuery(f: PaymentFilters, timeZone: string, customerId: string | undefined): PaymentQuery {
  return {
    from: zonedToIso(`${f.from}T00:00`, timeZone),
    to: zonedToIso(`${nextDay(f.to)}T00:00`, timeZone),
    method: f.method,
    staffId: f.staffId,
    customerId,
  };
}

/**
 * The customer a filter names: an id from a link, else the one customer whose name, username, phone
 * or account number matches what was typed; several matches are offered to pick from.
 */
export async function resolveCustomer(api: Controller, f: PaymentFilters): Promise<{ customer?: CustomerView; matches: CustomerView[]; notFound: boolean }> {
  if (f.customerId) return { customer: await api.customers.get(f.customerId), matches: [], notFound: false };
  if (!f.customer) return { matches: [], notFound: false };
  const found = await api.customers.list({ search: f.customer, pageSize: 10 });
  const exact = found.items.find((c) => [c.username, c.accountNumber, c.additionalAccountNumber].some((v) => v?.toLowerCase() === f.customer!.toLowerCase()));
  if (exact || found.items.length === 1) return { customer: exact ?? found.items[0], matches: [], notFound: false };
  return { matches: found.items, notFound: found.items.length === 0 };
}
