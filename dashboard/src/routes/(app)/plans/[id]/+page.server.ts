import { error, redirect } from '@sveltejs/kit';
import { act, failure, formValues } from '$lib/server/forms';
import { planBody, planChoices, planFailure, planValues } from '$lib/server/plans';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, params, parent }) => {
  if (!(await parent()).canWrite) error(403, 'Your role may look, not change plans.');
  const [plan, choices] = await Promise.all([locals.api.plans.get(params.id), planChoices(locals.api)]);
  return { plan, ...choices };
};

export const actions: Actions = {
  save: async ({ locals, request, params }) => {
    const form = await request.formData();
    const values = planValues(formValues(form), form);
    const { connectionType: _fixedOnceCreated, ...body } = planBody(values, form);
    try {
      // a blank essential is sent as such, for the controller to refuse rather than keep the old value
      await locals.api.plans.update(params.id, {
        ...body,
        name: body.name ?? '',
        price: body.price ?? '',
        downloadSpeed: body.downloadSpeed ?? '',
        uploadSpeed: body.uploadSpeed ?? '',
      });
    } catch (err) {
      return planFailure(err, values);
    }
    redirect(303, `/plans?saved=${params.id}`);
  },
  archive: (e) =>
    act(e, 'archive', async (api) => (await api.plans.setArchived(e.params.id, true), 'Archived: no longer offered to new customers. Its customers keep it.')),
  unarchive: (e) => act(e, 'unarchive', async (api) => (await api.plans.setArchived(e.params.id, false), 'Offered to new customers again.')),
  delete: async ({ locals, params, request }) => {
    const values = formValues(await request.formData());
    let name: string;
    try {
      name = (await locals.api.plans.get(params.id)).name;
      await locals.api.plans.remove(params.id);
    } catch (err) {
      // refused while customers use it: the controller's words say what to do instead
      return failure(err, values, { action: 'delete' });
    }
    redirect(303, `/plans?deleted=${encodeURIComponent(name)}`);
  },
};
