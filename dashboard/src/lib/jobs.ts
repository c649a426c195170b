import type { JobStatus } from '@mtandao/protocol';

/** Whether a job may still change: screens keep polling while one is. */
export const inFlight = (job: { status: JobStatus } | null | undefined): boolean => job?.status === 'pending' || job?.status === 'sent';
