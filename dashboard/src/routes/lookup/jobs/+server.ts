import { error, json } from '@sveltejs/kit';
import { JobListQuery } from '@mtandao/protocol/api';
import { jobsWithEvents } from '$lib/server/jobs';
import type { RequestHandler } from './$types';

/** Jobs of a filter (`afterId` for the live tail); `events=N` attaches the event logs of the first N. */
export const GET: RequestHandler = async ({ locals, url }) => {
  const params = Object.fromEntries(url.searchParams);
  const query = JobListQuery.safeParse(params);
  if (!query.success) error(400, query.error.issues[0]?.message ?? 'Bad filter');
  const events = Math.min(Number(params.events ?? 0) || 0, 25);
  return json(await jobsWithEvents(locals.api, query.data, events));
};
