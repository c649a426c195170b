import { redirect } from '@sveltejs/kit';
import { clearSession } from '$lib/server/api';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async () => redirect(303, '/customers');

export const actions: Actions = {
  default: async ({ cookies, locals, url }) => {
    await locals.api.logout();
    clearSession(cookies, url);
    redirect(303, '/login');
  },
};
