import { json } from '@sveltejs/kit';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async ({ locals, url }) =>
  json(await locals.api.customers.generateUsername({ name: url.searchParams.get('name') ?? undefined, phone: url.searchParams.get('phone') ?? undefined }));
