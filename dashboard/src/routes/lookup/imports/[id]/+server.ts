import { json } from '@sveltejs/kit';
import type { RequestHandler } from './$types';

/** Where an import is (the progress bar polls it). */
export const GET: RequestHandler = async ({ locals, params }) => json(await locals.api.imports.status(params.id));
