import { error, redirect } from '@sveltejs/kit';
import { failure, formValues } from '$lib/server/forms';
import { poolBody } from '$lib/server/pools';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, params, parent }) => {
  if (!(await parent()).canWrite) error(403, 'Your role may look, not change pools.');
  return { pool: await locals.api.pools.get(params.id) };
};

export const actions: Actions = {
  default: async ({ locals, request, params }) => {
    const values = formValues(await request.formData());
    try {
      await locals.api.pools.update(params.id, poolBody(values));
    } catch (err) {
      return failure(err, values);
    }
    redirect(303, `/network?saved=${params.id}`);
  },
};
