import { customerQueryFrom } from '$lib/server/customer-query';
import type { RequestHandler } from './$types';

/** The list's CSV export: every customer of the current filters, in the import template's columns. */
export const GET: RequestHandler = async ({ locals, url }) => locals.api.download('/customers', { ...customerQueryFrom(url), format: 'csv' });
