import * as z from 'zod';
import { CustomerStatus, PaymentMethod } from '../enums.ts';
import { Amount, Id, OptionalId, PageQuery, blankAsAbsent, requiredText } from './common.ts';
import { LedgerEntryView } from './customers.ts';

/** `GET /customers/:id/account`: the balance, what is due and what the balance covers. */
export const AccountView = z.object({
  balance: z.string(),
  price: z.string(),
  /** what must be paid now to renew one period: max(price − balance, 0) */
  due: z.string(),
  covers: z.object({ periods: z.number().int(), until: z.string().nullable() }),
  nextPlan: z.object({ id: z.string(), name: z.string() }).nullable(),
  expiresAt: z.string().nullable(),
  status: CustomerStatus,
});
/** An account view. */
export type AccountView = z.infer<typeof AccountView>;

/** `GET /customers/:id/payment-preview?amount=`. */
export const PaymentPreviewQuery = z.object({ amount: Amount('Amount') });

/** What a payment would do, shown before staff confirm. */
export const PaymentPreview = z.object({
  balanceBefore: z.string(),
  balanceAfter: z.string(),
  periods: z.number().int(),
  expiresAtAfter: z.string().nullable(),
  statusAfter: CustomerStatus,
  message: z.string(),
});
/** A payment preview. */
export type PaymentPreview = z.infer<typeof PaymentPreview>;

/** `POST /payments/:id/reverse` (admin). */
export const ReverseRequest = z.object({ reason: requiredText('Reason', 500) });

const DateParam = (label: string) =>
  blankAsAbsent(
    z
      .string({ error: `${label} must be a date` })
      .trim()
      .refine((v) => !Number.isNaN(Date.parse(v)), `${label} must be a date like 2026-12-01`)
      .transform((v) => v),
  );

/** `GET /payments` filters. `to` is exclusive; a bare date means its start (UTC). */
export const PaymentListQuery = PageQuery.extend({
  from: DateParam('From'),
  to: DateParam('To'),
  method: blankAsAbsent(PaymentMethod),
  staffId: OptionalId('Staff'),
  customerId: OptionalId('Customer'),
  format: blankAsAbsent(z.enum(['json', 'csv'], { error: 'Format must be json or csv' })),
});

/** Money per method. */
export const MethodTotals = z.object({ cash: z.string(), mpesa: z.string(), bank: z.string(), cheque: z.string() });

/** `GET /payments`: payments and their reversals with totals over the whole filter. */
export const PaymentList = z.object({
  items: z.array(LedgerEntryView),
  total: z.number().int(),
  totals: z.object({ count: z.number().int(), amount: z.string(), byMethod: MethodTotals }),
});
/** A payment list. */
export type PaymentList = z.infer<typeof PaymentList>;

/** `GET /payments/:id/receipt`. */
export const ReceiptView = z.object({
  receiptNumber: z.string(),
  company: z.string(),
  customer: z.object({ name: z.string().nullable(), username: z.string(), accountNumber: z.string().nullable() }),
  amount: z.string(),
  method: PaymentMethod.nullable(),
  reference: z.string().nullable(),
  staff: z.string().nullable(),
  createdAt: z.string(),
  balanceAfter: z.string(),
  expiresAt: z.string().nullable(),
  /** set when the payment was reversed */
  reversed: z.boolean(),
});
/** A receipt view. */
export type ReceiptView = z.infer<typeof ReceiptView>;

/** `GET/PUT /settings/billing`. */
export const BillingSettingsView = z.object({
  autoRenew: z.boolean(),
  graceHours: z.number().int().min(0).max(720),
  changePlanDefault: z.enum(['next-renewal', 'now']),
});
/** Billing settings. */
export type BillingSettingsView = z.infer<typeof BillingSettingsView>;

/** `PUT /settings/billing` (admin): any subset. */
export const UpdateBillingSettingsRequest = z.object({
  autoRenew: z.boolean({ error: 'Auto renew must be true or false' }).optional(),
  graceHours: z.coerce
    .number({ error: 'Grace hours must be a number' })
    .int('Grace hours must be a whole number')
    .min(0, 'Grace hours must be 0–720')
    .max(720, 'Grace hours must be 0–720')
    .optional(),
  changePlanDefault: z.enum(['next-renewal', 'now'], { error: 'Change plan default must be "next-renewal" or "now"' }).optional(),
});

/** `:id` of a ledger entry. */
export const EntryParams = z.object({ id: Id('id') });
