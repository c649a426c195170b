import { act } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url, depends }) => {
  depends('app:hotspot');
  const routers = (await locals.api.routers.list()).items;
  const routerId = url.searchParams.get('routerId') ?? routers[0]?.id;
  const sessions = routerId ? await locals.api.hotspot.active(routerId) : { items: [], total: 0 };
  return { routers, routerId: routerId ?? null, sessions: sessions.items };
};

export const actions: Actions = {
  refresh: (e) =>
    act(e, 'refresh', async (api, v) => (await api.hotspot.refresh(v.routerId ?? ''), 'Asked the agent to read the router now: reload in a moment.')),
};
