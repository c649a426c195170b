import type { RequestHandler } from './$types';

/** A batch's codes as CSV, handed on as a download. */
export const GET: RequestHandler = async ({ locals, params }) => {
  const res = await locals.api.vouchers.print(params.id, 'csv');
  return new Response(res.body, {
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="vouchers-${params.id}.csv"`,
      'cache-control': 'no-store',
    },
  });
};
