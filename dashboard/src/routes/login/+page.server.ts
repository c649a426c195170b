import { fail, redirect } from '@sveltejs/kit';
import { ApiError, SESSION_COOKIE, setSession } from '$lib/server/api';
import { formValues } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

/** Only a path of this dashboard: never an open redirect. */
const safeNext = (next: string | null): string => (next && /^\/(?!\/)[^\s\\]*$/.test(next) ? next : '/');

export const load: PageServerLoad = async ({ cookies, url }) => {
  if (cookies.get(SESSION_COOKIE)) redirect(303, safeNext(url.searchParams.get('next')));
  return {};
};

export const actions: Actions = {
  default: async ({ request, cookies, url, locals }) => {
    const values = formValues(await request.formData());
    const username = values.username?.trim() ?? '';
    try {
      const session = await locals.api.login({ username, password: values.password ?? '' });
      setSession(cookies, url, session.token, session.maxAge);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const message = err.status === 401 ? 'Wrong username or password' : err.message;
      return fail(err.status === 401 ? 400 : err.status, { username, message });
    }
    redirect(303, safeNext(url.searchParams.get('next')));
  },
};
