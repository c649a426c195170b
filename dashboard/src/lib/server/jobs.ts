import type { JobView } from '@mtandao/protocol/api';
import type { Controller, JobQuery } from './api';

/** Jobs of a filter, the first `withEvents` of them with their event logs (the router's replies). */
export async function jobsWithEvents(api: Controller, query: JobQuery, withEvents: number): Promise<{ items: JobView[]; total: number }> {
  const list = await api.jobs.list(query);
  const items = await Promise.all(list.items.map((job, i) => (i < withEvents ? api.jobs.get(job.id) : job)));
  return { items, total: list.total };
}
