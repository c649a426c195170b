import { json } from '@sveltejs/kit';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async ({ locals, params, url }) => {
  const limit = Number(url.searchParams.get('limit') ?? 1024);
  return json(
    await locals.api.networks.availableIps(params.id, { prefix: url.searchParams.get('prefix') ?? '', limit: Number.isInteger(limit) ? limit : 1024 }),
  );
};
