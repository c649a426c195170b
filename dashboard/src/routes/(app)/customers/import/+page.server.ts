import { error, fail, redirect } from '@sveltejs/kit';
import { ApiError } from '$lib/server/api';
import { failure, formValues } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, parent, url }) => {
  if (!(await parent()).canWrite) error(403, 'Your role may look, not import customers.');
  const id = url.searchParams.get('id');
  if (!id || !/^\d{1,18}$/.test(id)) return { status: null };
  try {
    return { status: await locals.api.imports.status(id) };
  } catch (err) {
    if (err instanceof ApiError) error(err.status, err.message);
    throw err;
  }
};

export const actions: Actions = {
  /** Checks the chosen file (a dry run): nothing is created yet. */
  upload: async ({ locals, request }) => {
    const form = await request.formData();
    const file = form.get('file');
    if (!(file instanceof File) || file.size === 0)
      return fail(422, { action: 'upload', errors: { file: 'Choose a CSV file to import' }, message: 'Choose a CSV file to import', values: {} });
    const out = new FormData();
    out.append('file', file, file.name);
    try {
      return { action: 'upload', dryRun: await locals.api.imports.upload(out), filename: file.name };
    } catch (err) {
      return failure(err, {}, { action: 'upload' });
    }
  },
  /** Imports the good rows of a dry run; the page then follows its progress. */
  commit: async ({ locals, request }) => {
    const values = formValues(await request.formData());
    try {
      await locals.api.imports.commit(values.id ?? '');
    } catch (err) {
      return failure(err, values, { action: 'commit' });
    }
    redirect(303, `/customers/import?id=${encodeURIComponent(values.id ?? '')}`);
  },
};
