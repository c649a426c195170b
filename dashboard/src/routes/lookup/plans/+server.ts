import { json } from '@sveltejs/kit';
import { ConnectionType } from '@mtandao/protocol';
import type { RequestHandler } from './$types';

// JSON the browser asks for as staff fill in forms; each is one controller read with the staff session.
export const GET: RequestHandler = async ({ locals, url }) => {
  const type = ConnectionType.safeParse(url.searchParams.get('connectionType'));
  const plans = await locals.api.plans.list(type.success ? { connectionType: type.data } : {});
  // archived plans are kept for existing customers, not offered in forms
  return json({ ...plans, items: plans.items.filter((p) => !p.archived) });
};
