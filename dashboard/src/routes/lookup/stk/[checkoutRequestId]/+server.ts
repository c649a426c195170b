import { json } from '@sveltejs/kit';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async ({ locals, params }) => json(await locals.api.mpesa.stk(params.checkoutRequestId));
