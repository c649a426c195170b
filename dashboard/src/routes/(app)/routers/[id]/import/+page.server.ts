import { error, redirect } from '@sveltejs/kit';
import { failure, formValues } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, params, parent, depends }) => {
  if (!(await parent()).canWrite) error(403, 'Your role may look, not import from routers.');
  depends('app:adoption');
  const [routers, scan, plans] = await Promise.all([locals.api.routers.list(), locals.api.adoption.latest(params.id), locals.api.plans.list({})]);
  const router = routers.items.find((r) => r.id === params.id);
  if (!router) error(404, 'Router not found');
  return { router, scan, plans: plans.items.filter((p) => !p.archived) };
};

export const actions: Actions = {
  scan: async ({ locals, params }) => {
    try {
      await locals.api.adoption.scan(params.id);
    } catch (err) {
      return failure(err, {}, { action: 'scan' });
    }
    redirect(303, `/routers/${params.id}/import`);
  },
  createPlan: async ({ locals, params, request }) => {
    const values = formValues(await request.formData());
    try {
      const plan = await locals.api.adoption.planFromProfile(params.id, {
        profile: values.profile ?? '',
        price: values.price ?? '',
        ...(values.name ? { name: values.name } : {}),
      });
      return { action: 'createPlan', profile: values.profile, notice: `Plan ${plan.name} created from profile ${values.profile}`, planId: plan.id };
    } catch (err) {
      return failure(err, values, { action: 'createPlan' });
    }
  },
  adopt: async ({ locals, params, request }) => {
    const form = await request.formData();
    const profiles: Record<string, string> = {};
    for (const [k, v] of form) if (k.startsWith('plan:') && typeof v === 'string' && v) profiles[k.slice(5)] = v;
    const entries = form.getAll('entry').filter((v): v is string => typeof v === 'string');
    try {
      const result = await locals.api.adoption.adopt(params.id, { profiles, entries });
      return { action: 'adopt', result };
    } catch (err) {
      return failure(err, {}, { action: 'adopt' });
    }
  },
};
