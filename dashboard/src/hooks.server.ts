import type { Handle } from '@sveltejs/kit';
import { Controller, loginUrl, SESSION_COOKIE } from '$lib/server/api';

const PUBLIC = new Set(['/login']);

export const handle: Handle = async ({ event, resolve }) => {
  event.locals.api = new Controller(event);
  // Without a session there is nothing to ask the controller: straight to the login page.
  const response =
    !PUBLIC.has(event.url.pathname) && !event.cookies.get(SESSION_COOKIE)
      ? new Response(null, { status: 303, headers: { location: loginUrl(event) } })
      : await resolve(event);
  response.headers.set('x-frame-options', 'DENY');
  response.headers.set('x-content-type-options', 'nosniff');
  response.headers.set('referrer-policy', 'same-origin');
  return response;
};
