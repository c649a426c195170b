import type { JobStatus } from '@mtandao/protocol';

type JobState = { status: JobStatus; routerError?: string | null; lastError?: string | null };

/** Whether a job may still change: screens keep polling while one is. */
export const inFlight = (job: { status: JobStatus } | null | undefined): boolean => job?.status === 'pending' || job?.status === 'sent';

/** What went wrong with a job not (yet) applied, in the router's words when it replied; null when nothing did. */
export function routerProblem(job: JobState | null | undefined): string | null {
  if (!job || job.status === 'applied') return null;
  if (job.routerError) return `Router replied: ${job.routerError}`;
  return job.lastError ?? null;
}

/** One sentence on where a change stands on the router, for the notice after an action. */
export function routerLine(job: JobState | null | undefined): string {
  if (!job) return '';
  const problem = routerProblem(job);
  if (job.status === 'applied') return 'Applied on the router.';
  if (problem) return `The router did not take it. ${problem}${inFlight(job) ? ' (retrying)' : ''}`;
  return 'The router is being updated…';
}
