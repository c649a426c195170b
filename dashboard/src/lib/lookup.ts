// The browser's side of the /lookup endpoints: JSON from the dashboard's own origin.

/** Thrown when a lookup fails; the message is the one to show. */
export class LookupError extends Error {}

/** GETs a /lookup endpoint; a lost session goes back to the login page. */
export async function lookup<T>(path: string, params: Record<string, string | number | undefined> = {}): Promise<T> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const res = await fetch(`/lookup${path}${q.size ? `?${q}` : ''}`, { headers: { accept: 'application/json' } });
  if (res.redirected && new URL(res.url).pathname === '/login') {
    location.assign(res.url);
    throw new LookupError('Signed out');
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => undefined)) as { message?: string } | undefined;
    throw new LookupError(body?.message ?? `Request failed (${res.status})`);
  }
  return (await res.json()) as T;
}
