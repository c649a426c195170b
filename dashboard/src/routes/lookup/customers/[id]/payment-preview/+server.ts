import { json } from '@sveltejs/kit';
import { ApiError } from '$lib/server/api';
import type { RequestHandler } from './$types';

/** What a payment of `amount` would buy, asked as staff type the amount (the controller applies the rules). */
export const GET: RequestHandler = async ({ locals, params, url }) => {
  try {
    return json(await locals.api.customers.paymentPreview(params.id, url.searchParams.get('amount') ?? ''));
  } catch (err) {
    if (err instanceof ApiError) return json({ message: err.message, field: err.field ?? err.issues[0]?.field }, { status: err.status });
    throw err;
  }
};
