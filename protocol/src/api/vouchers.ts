import * as z from 'zod';
import { Id, PageQuery, blankAsAbsent } from './common.ts';

/** Voucher statuses: unused until first login, active until its time or data runs out, then expired; or revoked. */
export const VoucherStatus = z.enum(['unused', 'active', 'expired', 'revoked']);
/** A voucher status value. */
export type VoucherStatus = z.infer<typeof VoucherStatus>;

/** `POST /vouchers/batches`. */
export const CreateVoucherBatchRequest = z
  .object({
    planId: Id('Plan'),
    count: z.coerce
      .number({ error: 'Count must be a number' })
      .int('Count must be a whole number')
      .min(1, 'Count must be at least 1')
      .max(10000, 'Count must be at most 10 000'),
    prefix: blankAsAbsent(
      z
        .string({ error: 'Prefix must be text' })
        .trim()
        .toUpperCase()
        .regex(/^[A-Z0-9]{1,6}$/, 'Prefix must be 1–6 letters or digits'),
    ),
    length: blankAsAbsent(
      z.coerce
        .number({ error: 'Length must be a number' })
        .int('Length must be a whole number')
        .min(4, 'Length must be at least 4')
        .max(16, 'Length must be at most 16'),
    ),
    charset: blankAsAbsent(z.enum(['digits', 'letters', 'mixed'], { error: 'Characters must be digits, letters or mixed' })),
    validityFrom: blankAsAbsent(z.enum(['first-login', 'sale'], { error: 'Validity must run from first-login or sale' })),
  })
  .strict();
/** A voucher batch request. */
export type CreateVoucherBatchRequest = z.infer<typeof CreateVoucherBatchRequest>;

/** A batch as the API shows it. */
export const VoucherBatchView = z.object({
  id: z.string(),
  planId: z.string(),
  planName: z.string(),
  price: z.string(),
  count: z.number(),
  prefix: z.string(),
  length: z.number(),
  charset: z.string(),
  validityFrom: z.string(),
  unused: z.number().optional(),
  active: z.number().optional(),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
});
/** A voucher batch. */
export type VoucherBatchView = z.infer<typeof VoucherBatchView>;

/** A voucher as the API shows it. */
export const VoucherView = z.object({
  id: z.string(),
  batchId: z.string(),
  planId: z.string(),
  planName: z.string(),
  code: z.string(),
  status: VoucherStatus,
  firstLoginAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  uptimeSeconds: z.number(),
  bytesIn: z.number(),
  bytesOut: z.number(),
  revokedAt: z.string().nullable(),
  createdAt: z.string(),
});
/** A voucher. */
export type VoucherView = z.infer<typeof VoucherView>;

/** `GET /vouchers` filters. */
export const VoucherQuery = PageQuery.extend({
  batchId: blankAsAbsent(Id('Batch')),
  status: blankAsAbsent(VoucherStatus),
  search: blankAsAbsent(z.string().trim().max(40, 'Search must be at most 40 characters')),
});

/** `GET /vouchers/batches/:id/print` format. */
export const VoucherPrintQuery = z.object({
  format: blankAsAbsent(z.enum(['html', 'csv'], { error: 'Format must be html or csv' })),
  /** The sheet comes in pages of 240 vouchers (ten A4 pages); the CSV is always whole. */
  page: blankAsAbsent(z.coerce.number({ error: 'page must be a number' }).int('page must be a whole number').min(1, 'page starts at 1').max(1000)),
});

/** One device online on a router's hotspot. */
export const HotspotSessionView = z.object({
  user: z.string(),
  macAddress: z.string(),
  address: z.string(),
  uptimeSeconds: z.number(),
  bytesIn: z.number(),
  bytesOut: z.number(),
  voucherId: z.string().nullable(),
  customerId: z.string().nullable(),
  readAt: z.string(),
});
/** A hotspot session. */
export type HotspotSessionView = z.infer<typeof HotspotSessionView>;

/** `GET/PUT /settings/vouchers`: where a batch's time runs from unless the batch says. */
export const VoucherSettings = z.object({ validityFrom: z.enum(['first-login', 'sale'], { error: 'Validity must run from first-login or sale' }) }).strict();
/** Voucher settings. */
export type VoucherSettings = z.infer<typeof VoucherSettings>;
