import * as z from 'zod';
import { Id } from './common.ts';

/** The import template's columns, in order (help/import-customers.md): headers must match exactly. */
export const IMPORT_COLUMNS = ['full_name', 'phone', 'username', 'password', 'plan_name', 'connection_type', 'email', 'ip_address', 'account_number'] as const;
/** Columns a file may add: the expiry, and the failures file's `error` column (ignored) so that file imports again once fixed. */
export const IMPORT_OPTIONAL_COLUMNS = ['expires_at', 'error'] as const;
/** An import column. */
export type ImportColumn = (typeof IMPORT_COLUMNS)[number] | (typeof IMPORT_OPTIONAL_COLUMNS)[number];

/** Row error texts of the help page (contract). */
export const PLAN_NOT_FOUND_MESSAGE = 'Plan not found';
/** A connection type other than `pppoe` or `static` (lower case). */
export const UNKNOWN_CONNECTION_TYPE_MESSAGE = 'Unknown connection type';

/** One problem of one row (row 1 is the first customer, below the header). */
export const ImportRowError = z.object({ row: z.number().int(), field: z.string(), message: z.string() });
/** A row problem. */
export type ImportRowError = z.infer<typeof ImportRowError>;

/** One row of a preview: its cells (the password masked) and its problems. */
export const ImportPreviewRow = z.object({
  row: z.number().int(),
  cells: z.record(z.string(), z.string()),
  errors: z.array(z.object({ field: z.string(), message: z.string() })),
});

/** The answer of a dry run (`POST /imports/customers`). */
export const ImportDryRun = z.object({
  id: z.string(),
  rows: z.number().int(),
  valid: z.number().int(),
  invalid: z.number().int(),
  preview: z.array(ImportPreviewRow),
  /** Row problems, the first 1000; `GET /imports/:id/errors.csv` has them all. */
  errors: z.array(ImportRowError),
  errorsTruncated: z.boolean(),
});
/** A dry run. */
export type ImportDryRun = z.infer<typeof ImportDryRun>;

/** Where an import is (`GET /imports/:id`); the dashboard's progress bar is processed / valid. */
export const ImportStatusView = z.object({
  id: z.string(),
  status: z.enum(['preview', 'running', 'done', 'failed']),
  filename: z.string().nullable(),
  rows: z.number().int(),
  valid: z.number().int(),
  invalid: z.number().int(),
  processed: z.number().int(),
  created: z.number().int(),
  failed: z.number().int(),
  error: z.string().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
});
/** An import's state. */
export type ImportStatusView = z.infer<typeof ImportStatusView>;

/** One entry an adoption scan found on a router without Mtandao's marker. */
export const AdoptionEntryView = z.object({
  id: z.string(),
  menu: z.string(),
  kind: z.enum(['pppoe', 'hotspot', 'static', 'pppoe-profile', 'hotspot-profile']),
  name: z.string(),
  profile: z.string().nullable(),
  /** What the router holds (passwords never shown). */
  props: z.record(z.string(), z.string()),
  customerId: z.string().nullable(),
  planId: z.string().nullable(),
  adoptedAt: z.string().nullable(),
  error: z.string().nullable(),
});
/** An entry found by a scan. */
export type AdoptionEntryView = z.infer<typeof AdoptionEntryView>;

/** A router profile found by a scan, with its users and the plan its rate limit suggests. */
export const AdoptionProfileView = z.object({
  name: z.string(),
  connectionType: z.enum(['pppoe', 'hotspot', 'static']),
  rateLimit: z.string().nullable(),
  entryId: z.string().nullable(),
  users: z.number().int(),
  suggestedPlanId: z.string().nullable(),
  suggestedPlanName: z.string().nullable(),
});

/** The latest adoption scan of a router (`GET /routers/:id/adoption-scan`). */
export const AdoptionScanView = z.object({
  id: z.string(),
  routerId: z.string(),
  status: z.enum(['running', 'done', 'failed']),
  error: z.string().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  profiles: z.array(AdoptionProfileView),
  entries: z.array(AdoptionEntryView),
});
/** An adoption scan. */
export type AdoptionScanView = z.infer<typeof AdoptionScanView>;

/** `POST /routers/:id/adopt`: the plan for each router profile, and the entries to adopt. */
export const AdoptRequest = z.object({
  profiles: z.record(z.string().min(1).max(200), Id('Plan')).refine((o) => Object.keys(o).length <= 500, 'At most 500 profiles'),
  entries: z.array(Id('Entry')).min(1, 'Pick at least one entry').max(5000, 'At most 5000 entries at once'),
});
/** An adopt request. */
export type AdoptRequest = z.infer<typeof AdoptRequest>;

/** What an adoption did, entry by entry. */
export const AdoptResult = z.object({
  adopted: z.number().int(),
  failed: z.number().int(),
  results: z.array(z.object({ entryId: z.string(), name: z.string(), customerId: z.string().nullable(), error: z.string().nullable() })),
  jobId: z.string().nullable(),
});

/** `POST /routers/:id/adoption-scan/plans`: a plan made from a router profile (its rate limit becomes the speeds). */
export const PlanFromProfileRequest = z.object({
  profile: z.string().min(1, 'Profile is required').max(200),
  name: z.string().trim().min(1).max(100).optional(),
  price: z
    .union([z.string(), z.number()])
    .transform((v) => String(v).trim())
    .refine((v) => /^\d{1,13}(\.\d{1,2})?$/.test(v), 'Price must be an amount like 1500.00'),
  validity: z.object({ count: z.number().int().min(1).max(1000), unit: z.enum(['minutes', 'hours', 'days', 'months']) }).default({ count: 30, unit: 'days' }),
});
