import type { RequestHandler } from './$types';

/** The rows of an import that were not imported, with an error column. */
export const GET: RequestHandler = async ({ locals, params }) => locals.api.download(`/imports/${encodeURIComponent(params.id)}/errors.csv`);
