import { paymentFilters, paymentQuery } from '$lib/server/payments';
import type { RequestHandler } from './$types';

/** The CSV of the Payments page's filters, fetched from the controller with the staff session and handed on as a download. */
export const GET: RequestHandler = async ({ locals, url }) => {
  const settings = await locals.api.settings.get();
  const filters = paymentFilters(url.searchParams, settings.timezone);
  const res = await locals.api.payments.csv(paymentQuery(filters, settings.timezone, filters.customerId));
  return new Response(res.body, {
    headers: {
      'content-type': res.headers.get('content-type') ?? 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="payments-${filters.from}-to-${filters.to}.csv"`,
      'cache-control': 'no-store',
    },
  });
};
