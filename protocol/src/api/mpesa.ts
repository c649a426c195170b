import * as z from 'zod';
import { Amount, Id, blankAsAbsent } from './common.ts';

/** Words Daraja filters out of callback URLs (its URL guidelines: M-Pesa, Safaricom and their variants, any case). */
export const DARAJA_REFUSED_URL = /m[\s_.-]*pesa|safaricom/i;

/** Daraja environments. */
export const MpesaEnvironment = z.enum(['sandbox', 'production']);
/** Paybill, or a till (Buy Goods) with its store number. */
export const MpesaShortcodeType = z.enum(['paybill', 'till']);
/** What the validation URL answers for an account number nobody has. */
export const MpesaValidationPolicy = z.enum(['accept-all', 'reject-unknown']);

const digits = (label: string) =>
  z
    .string({ error: `${label} must be digits` })
    .trim()
    .regex(/^\d{5,7}$/, `${label} must be 5–7 digits`);
/** Optional; '' or null clears it. */
const clearable = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? null : v), schema.nullable().optional());
const secret = (label: string) =>
  blankAsAbsent(
    z
      .string({ error: `${label} must be text` })
      .trim()
      .min(1)
      .max(200, `${label} is too long`),
  );

/** M-Pesa settings as an admin edits them; secrets are write-only (absent = unchanged). */
export const UpdateMpesaSettingsRequest = z.object({
  environment: MpesaEnvironment.optional(),
  shortcodeType: MpesaShortcodeType.optional(),
  /** The paybill number, or for a till the store (head office) number Daraja calls BusinessShortCode. */
  shortcode: digits('Shortcode').optional(),
  /** The till number customers pay to (PartyB of an STK push to a till). */
  tillNumber: clearable(digits('Till number')),
  consumerKey: secret('Consumer key'),
  consumerSecret: secret('Consumer secret'),
  passkey: secret('Passkey'),
  validationPolicy: MpesaValidationPolicy.optional(),
  /** Source addresses allowed to call the callbacks; empty = any. */
  allowedIps: z
    .array(
      z
        .string()
        .trim()
        .regex(/^[0-9a-fA-F:.]{2,45}$/, 'Allowed IPs must be IP addresses'),
    )
    .max(50)
    .optional(),
  /** The public HTTPS base the callback URLs are built on (default: the controller's public URL). */
  callbackBaseUrl: clearable(
    z
      .string()
      .trim()
      .url('Callback base URL must be a URL')
      .max(300)
      .refine(
        (u) => !DARAJA_REFUSED_URL.test(u),
        'Safaricom refuses callback URLs that contain "M-Pesa" or "Safaricom" in any spelling: use another host name',
      ),
  ),
});
export type UpdateMpesaSettingsRequest = z.infer<typeof UpdateMpesaSettingsRequest>;

/** M-Pesa settings as read back: secrets only as set or not. */
export const MpesaSettingsView = z.object({
  environment: MpesaEnvironment,
  shortcodeType: MpesaShortcodeType,
  shortcode: z.string().nullable(),
  tillNumber: z.string().nullable(),
  consumerKeySet: z.boolean(),
  consumerSecretSet: z.boolean(),
  passkeySet: z.boolean(),
  validationPolicy: MpesaValidationPolicy,
  allowedIps: z.array(z.string()),
  callbackBaseUrl: z.string().nullable(),
  darajaUrl: z.string(),
  callbackUrls: z.object({ validation: z.string(), confirmation: z.string(), stkCallback: z.string() }),
  lastRegistration: z.object({ at: z.string(), ok: z.boolean(), answer: z.unknown() }).nullable(),
});
export type MpesaSettingsView = z.infer<typeof MpesaSettingsView>;

/** Daraja's answer to a URL registration, as received. */
export const MpesaRegisterResult = z.object({
  ok: z.boolean(),
  status: z.number().int(),
  answer: z.unknown(),
  message: z.string(),
  request: z.record(z.string(), z.unknown()),
});
export type MpesaRegisterResult = z.infer<typeof MpesaRegisterResult>;

/** One M-Pesa transaction as received (confirmation or STK). */
export const MpesaTransactionView = z.object({
  id: z.string(),
  source: z.enum(['c2b', 'stk']),
  transId: z.string().nullable(),
  transType: z.string().nullable(),
  transTime: z.string().nullable(),
  amount: z.string().nullable(),
  shortCode: z.string().nullable(),
  billRefNumber: z.string().nullable(),
  msisdn: z.string().nullable(),
  name: z.string().nullable(),
  status: z.enum(['received', 'matched', 'unmatched', 'assigned', 'rejected']),
  reason: z.string().nullable(),
  customerId: z.string().nullable(),
  customerName: z.string().nullable(),
  paymentId: z.string().nullable(),
  receiptNumber: z.string().nullable(),
  receivedAt: z.string(),
  processedAt: z.string().nullable(),
});
export type MpesaTransactionView = z.infer<typeof MpesaTransactionView>;

/** Filters of the M-Pesa transaction lists. */
export const MpesaTransactionQuery = z.object({
  page: z.coerce.number().int().min(1).max(100000).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(25),
  status: z.enum(['received', 'matched', 'unmatched', 'assigned', 'rejected']).optional(),
});

/** Assigns an unmatched payment to a customer. */
export const AssignMpesaRequest = z.object({ customerId: Id('Customer') });

/** An STK push ("M-Pesa prompt") to a customer's phone. */
export const StkPushRequest = z.object({
  amount: blankAsAbsent(Amount('Amount')),
  phone: blankAsAbsent(z.string({ error: 'Phone number must be text' }).trim().max(32)),
});

/** STK push states. */
export const StkStatus = z.enum(['pending', 'paid', 'cancelled', 'timeout', 'failed']);

/** An STK push and what became of it. */
export const StkView = z.object({
  checkoutRequestId: z.string(),
  merchantRequestId: z.string().nullable(),
  customerId: z.string().nullable(),
  phone: z.string(),
  amount: z.string(),
  accountReference: z.string(),
  status: StkStatus,
  resultCode: z.string().nullable(),
  resultDesc: z.string().nullable(),
  mpesaReceiptNumber: z.string().nullable(),
  paymentId: z.string().nullable(),
  createdAt: z.string(),
  completedAt: z.string().nullable(),
});
export type StkView = z.infer<typeof StkView>;
