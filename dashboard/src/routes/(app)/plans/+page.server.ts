import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url }) => {
  const [plans, routers, pools] = await Promise.all([locals.api.plans.list(), locals.api.routers.list(), locals.api.pools.list()]);
  return { plans: plans.items, routers: routers.items, pools: pools.items, saved: url.searchParams.get('saved'), deleted: url.searchParams.get('deleted') };
};
