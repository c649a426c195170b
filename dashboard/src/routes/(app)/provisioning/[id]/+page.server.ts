import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, params }) => ({ job: await locals.api.jobs.get(params.id) });
