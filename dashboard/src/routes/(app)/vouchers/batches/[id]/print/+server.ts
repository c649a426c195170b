import type { RequestHandler } from './$types';

/** The A4 print sheet the controller makes (codes and QR codes), passed through for the browser to print. */
export const GET: RequestHandler = async ({ locals, params, url }) => {
  const res = await locals.api.vouchers.print(params.id, undefined, url.searchParams.get('page') ?? undefined);
  return new Response(res.body, {
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'",
    },
  });
};
