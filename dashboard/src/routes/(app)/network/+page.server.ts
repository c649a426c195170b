import { redirect } from '@sveltejs/kit';
import { failure, formValues } from '$lib/server/forms';
import { poolBody } from '$lib/server/pools';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url }) => {
  const [pools, routers] = await Promise.all([locals.api.pools.list(), locals.api.routers.list()]);
  return { pools: pools.items, routers: routers.items, saved: url.searchParams.get('saved') };
};

export const actions: Actions = {
  create: async ({ locals, request }) => {
    const values = formValues(await request.formData());
    let id: string;
    try {
      id = (await locals.api.pools.create({ ...poolBody(values), routerId: values.routerId ?? '' })).id;
    } catch (err) {
      return failure(err, values);
    }
    redirect(303, `/network?saved=${id}`);
  },
};
