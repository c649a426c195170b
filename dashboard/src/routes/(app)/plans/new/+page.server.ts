import { error, redirect } from '@sveltejs/kit';
import { ConnectionType } from '@mtandao/protocol';
import { formValues } from '$lib/server/forms';
import { planBody, planChoices, planFailure, planValues } from '$lib/server/plans';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url, parent }) => {
  if (!(await parent()).canWrite) error(403, 'Your role may look, not create plans.');
  return { ...(await planChoices(locals.api)), connectionType: ConnectionType.safeParse(url.searchParams.get('connectionType')).data };
};

export const actions: Actions = {
  default: async ({ locals, request, url }) => {
    const form = await request.formData();
    const values = planValues(formValues(form), form);
    let plan;
    try {
      plan = await locals.api.plans.create(planBody(values, form));
    } catch (err) {
      return planFailure(err, values);
    }
    // from Add Customer's "No plans appear": back there, with the new plan chosen
    if (url.searchParams.get('back') === 'add-customer') redirect(303, `/customers/new?connectionType=${plan.connectionType}&planId=${plan.id}`);
    redirect(303, `/plans?saved=${plan.id}`);
  },
};
