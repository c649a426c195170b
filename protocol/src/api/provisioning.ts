import * as z from 'zod';
import { JobStatus } from '../enums.ts';
import { IsoInstant, OptionalId, PageQuery } from './common.ts';

/** `GET /provisioning/jobs` query. */
export const JobListQuery = PageQuery.extend({
  customerId: OptionalId('Customer'),
  /** A customer's username, also of one since deleted. */
  customerUsername: z.string().trim().max(64).optional(),
  routerId: OptionalId('Router'),
  siteId: OptionalId('Site'),
  status: JobStatus.optional(),
  since: IsoInstant('since').optional(),
  until: IsoInstant('until').optional(),
  /** Only jobs with an id above this (live tail). */
  afterId: OptionalId('afterId'),
});

/** One event in a job's life. */
export const JobEventView = z.object({
  id: z.string(),
  at: z.string(),
  kind: z.string(),
  message: z.string(),
  routerError: z.string().nullable(),
  agentId: z.string().nullable(),
  commandId: z.string().nullable(),
  data: z.record(z.string(), z.unknown()).nullable(),
});

/** A provisioning job. */
export const JobView = z.object({
  id: z.string(),
  type: z.string(),
  reason: z.string(),
  status: JobStatus,
  attempts: z.number().int(),
  routerId: z.string(),
  routerName: z.string(),
  siteId: z.string(),
  siteName: z.string(),
  customerId: z.string().nullable(),
  customerUsername: z.string().nullable(),
  planId: z.string().nullable(),
  agentId: z.string().nullable(),
  commandId: z.string().nullable(),
  seq: z.string().nullable(),
  lastError: z.string().nullable(),
  routerError: z.string().nullable(),
  result: z.record(z.string(), z.unknown()).nullable(),
  nextAttemptAt: z.string(),
  expiresAt: z.string(),
  sentAt: z.string().nullable(),
  completedAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  events: z.array(JobEventView).optional(),
});
/** A job view. */
export type JobView = z.infer<typeof JobView>;
