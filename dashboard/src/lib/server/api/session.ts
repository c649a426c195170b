/**
 * The staff session as the dashboard keeps it: the controller's token in the dashboard's own cookie,
 * and the way to the login page (and back) when it is missing or expired.
 */
import type { RequestEvent } from '@sveltejs/kit';

/** The staff session cookie: the controller's token, kept by the dashboard for its own origin. */
export const SESSION_COOKIE = 'mtandao_session';

type Cookies = RequestEvent['cookies'];

/** Keeps the controller's session token in the dashboard's own cookie. */
export function setSession(cookies: Cookies, url: URL, token: string, maxAge: number): void {
  cookies.set(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'strict', secure: url.protocol === 'https:', maxAge });
}

/** Forgets the session (a Secure attribute over plain http would make the browser ignore the deletion). */
export function clearSession(cookies: Cookies, url: URL): void {
  cookies.delete(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: url.protocol === 'https:' });
}

/** The login page, with the way back to where the user was (pages only, never a form post or a lookup). */
export function loginUrl(event: Pick<RequestEvent, 'url' | 'request'>): string {
  const { pathname, search } = event.url;
  const back = event.request.method === 'GET' && !pathname.startsWith('/lookup/') ? `${pathname}${search}` : '/';
  return back === '/' ? '/login' : `/login?next=${encodeURIComponent(back)}`;
}
