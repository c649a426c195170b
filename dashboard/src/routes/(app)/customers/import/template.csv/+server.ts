import type { RequestHandler } from './$types';

/** The import template: the header row the import expects. */
export const GET: RequestHandler = async ({ locals }) => locals.api.download('/imports/template.csv');
