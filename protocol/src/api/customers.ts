import * as z from 'zod';
import { ConnectionType, CustomerStatus, JobStatus, LedgerKind, LedgerSide, PaymentKind, PaymentMethod, ValidityUnit } from '../enums.ts';
import { isWin1252, PRINTABLE_PATTERN, USERNAME_PATTERN, WIN1252_MESSAGE } from '../validation.ts';
import { Amount, blankAsAbsent, Flag, Id, OptionalId, optionalText, PageQuery, requiredText } from './common.ts';
import { CustomerListDepth } from './customer-list.ts';

// Contract messages of the Add Customer flow (SPEC section 4, help/add-new-customer.txt).
/** IP missing for PPPoE/Static. */
export const IP_REQUIRED_MESSAGE = 'IP address is required';
/** IP taken, reserved or outside the block. */
export const IP_NOT_AVAILABLE_MESSAGE = 'IP address is not available';
/** Username taken (case-insensitively). */
export const USERNAME_EXISTS_MESSAGE = 'Username already exists';
/** Phone is not a Kenyan mobile number. */
export const INVALID_PHONE_MESSAGE = 'Invalid phone number';

/** The username rule, worded for staff. */
export const USERNAME_RULE_MESSAGE = 'Username must be 3–64 letters, digits, ".", "_", "-" or "@"';

const Username = requiredText('Username', 64).regex(USERNAME_PATTERN, USERNAME_RULE_MESSAGE);
const Password = z
  .string({ error: 'Password must be text' })
  .max(64, 'Password must be at most 64 characters')
  .regex(PRINTABLE_PATTERN, 'Password must not contain control characters')
  .refine(isWin1252, `Password ${WIN1252_MESSAGE}`);
const AccountNumber = (label: string) =>
  z
    .string({ error: `${label} must be text` })
    .trim()
    .max(64, `${label} must be at most 64 characters`)
    .regex(/^[A-Za-z0-9._-]*$/, `${label} may hold letters, digits, ".", "_" and "-"`);
const Email = z
  .string({ error: 'Email must be text' })
  .trim()
  .max(200)
  .optional()
  .nullable()
  .transform((v) => (v ? v : undefined))
  .refine((v) => v === undefined || /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v), 'Invalid email address');
const IpText = z
  .string({ error: 'IP address must be text' })
  .trim()
  .max(45)
  .optional()
  .nullable()
  .transform((v) => (v ? v : undefined));

/** `POST /customers` (SPEC section 4). Conditional rules (IP for PPPoE/Static) live in the service. */
export const CreateCustomerRequest = z.object({
  connectionType: z
    .union([ConnectionType, z.undefined(), z.null(), z.literal('')], { error: 'Connection type must be PPPoE, Hotspot or Static' })
    .refine((v) => !!v, 'Connection type is required')
    .transform((v) => v as ConnectionType),
  planId: Id('Plan'),
  networkId: OptionalId('Network address'),
  ipAddress: IpText,
  fullName: requiredText('Full name', 200),
  phone: requiredText('Phone number', 32),
  email: Email,
  username: Username,
  password: Password.optional()
    .nullable()
    .transform((v) => (v ? v : undefined)),
  additionalAccountNumber: AccountNumber('Additional account number')
    .optional()
    .nullable()
    .transform((v) => (v ? v : undefined)),
  payment: z.object(
    {
      method: PaymentMethod.or(z.undefined())
        .refine((v) => v !== undefined, 'Payment method is required')
        .transform((v) => v!),
      installationFee: blankAsAbsent(Amount('Installation fee')),
      customAmount: blankAsAbsent(Amount('Custom amount')),
      reference: optionalText('Payment reference', 100),
    },
    { error: 'Payment method is required' },
  ),
  autoActivate: Flag('Auto activate').optional().default(false),
});
/** Add Customer body. */
export type CreateCustomerRequest = z.input<typeof CreateCustomerRequest>;
/** Add Customer body after validation. */
export type CreateCustomerInput = z.output<typeof CreateCustomerRequest>;

/** `PATCH /customers/:id`: personal details, login, IP, additional account number. */
export const UpdateCustomerRequest = z.object({
  fullName: requiredText('Full name', 200).optional(),
  phone: requiredText('Phone number', 32).optional(),
  /** `null` or an empty string clears it. */
  email: z
    .union([z.null(), z.string({ error: 'Email must be text' }).trim().max(200)])
    .optional()
    .transform((v) => (v === '' ? null : v))
    .refine((v) => v === undefined || v === null || /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v), 'Invalid email address'),
  username: Username.optional(),
  password: Password.min(1, 'Password is required').optional(),
  networkId: OptionalId('Network address'),
  ipAddress: IpText,
  additionalAccountNumber: AccountNumber('Additional account number').optional().nullable(),
});
/** Customer update body. */
export type UpdateCustomerRequest = z.input<typeof UpdateCustomerRequest>;

/** `GET /customers` query. */
export const CustomerListQuery = PageQuery.extend({
  search: z.string().trim().max(100).optional(),
  status: blankAsAbsent(CustomerStatus),
  connectionType: blankAsAbsent(ConnectionType),
  planId: OptionalId('Plan'),
  ...CustomerListDepth.shape,
});

/** The latest provisioning job of a customer, in short. */
export const JobSummary = z.object({
  id: z.string(),
  type: z.string(),
  status: JobStatus,
  reason: z.string(),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  routerError: z.string().nullable(),
  routerName: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** A customer (SPEC: at least id, username, status, connectionType, planId, ipAddress, accountNumber, expiresAt). */
export const CustomerView = z.object({
  id: z.string(),
  username: z.string(),
  status: CustomerStatus,
  connectionType: ConnectionType,
  planId: z.string(),
  planName: z.string(),
  networkId: z.string().nullable(),
  network: z.string().nullable(),
  ipAddress: z.string().nullable(),
  accountNumber: z.string(),
  additionalAccountNumber: z.string().nullable(),
  fullName: z.string(),
  phone: z.string(),
  email: z.string().nullable(),
  expiresAt: z.string().nullable(),
  activatedAt: z.string().nullable(),
  balance: z.string(),
  /** what must be paid now to renew one period: max(price − balance, 0) */
  due: z.string(),
  /** a plan change scheduled for the next renewal */
  nextPlanId: z.string().nullable(),
  nextPlanName: z.string().nullable(),
  createdAt: z.string(),
  createdBy: z.string().nullable(),
  latestJob: JobSummary.nullable(),
});
/** A customer view. */
export type CustomerView = z.infer<typeof CustomerView>;

/** `POST /customers/:id/payments`: money received needs its method; a debt or an adjustment has none. */
export const CreatePaymentRequest = z
  .object({
    method: blankAsAbsent(PaymentMethod),
    amount: Amount('Amount'),
    kind: PaymentKind.optional().default('plan'),
    reference: optionalText('Reference', 100),
    note: optionalText('Note', 500),
  })
  .superRefine((b, ctx) => {
    if (!b.method && b.kind !== 'debt' && b.kind !== 'adjustment') ctx.addIssue({ code: 'custom', path: ['method'], message: 'Payment method is required' });
  });

/** One entry of a customer's account (`GET /customers/:id/payments`). */
export const LedgerEntryView = z.object({
  id: z.string(),
  customerId: z.string().nullable(),
  customerName: z.string().nullable(),
  customerUsername: z.string(),
  side: LedgerSide,
  kind: LedgerKind,
  method: PaymentMethod.nullable(),
  amount: z.string(),
  balanceAfter: z.string(),
  reference: z.string().nullable(),
  note: z.string().nullable(),
  receiptNumber: z.string().nullable(),
  reversesId: z.string().nullable(),
  reversedById: z.string().nullable(),
  staff: z.string().nullable(),
  planId: z.string().nullable(),
  periodStart: z.string().nullable(),
  periodEnd: z.string().nullable(),
  createdAt: z.string(),
});
/** A ledger entry view. */
export type LedgerEntryView = z.infer<typeof LedgerEntryView>;
/** Former name of a ledger entry view (the payments list). */
export const PaymentView = LedgerEntryView;
/** A ledger entry view. */
export type PaymentView = LedgerEntryView;

/** `POST /customers/:id/extend`: adds time without a payment. */
export const ExtendRequest = z.object({
  count: z.coerce.number({ error: 'Count is required' }).int('Count must be a whole number').min(1, 'Count must be at least 1').max(3650),
  unit: ValidityUnit.optional().default('days'),
  /** why the time is given (audited) */
  reason: requiredText('Reason', 500),
});

/** `POST /customers/:id/change-plan`. */
export const ChangePlanRequest = z.object({
  planId: Id('Plan'),
  networkId: OptionalId('Network address'),
  ipAddress: IpText,
  /** now (pro rata) or from the next renewal; the billing setting decides when absent */
  when: blankAsAbsent(z.enum(['now', 'next-renewal'], { error: 'When must be "now" or "next-renewal"' })),
});

/** `POST /customers/:id/activate`. */
export const ActivateRequest = z.object({
  /** staff activating without cover must say so (audited); admins may always */
  onCredit: Flag('Activate on credit').optional().default(false),
});

/** An SMS as stored in the outbox. */
export const SmsView = z.object({
  id: z.string(),
  customerId: z.string().nullable(),
  to: z.string(),
  body: z.string(),
  provider: z.string(),
  status: z.string(),
  providerMessageId: z.string().nullable(),
  providerStatus: z.string().nullable(),
  error: z.string().nullable(),
  /** What the message is: manual, payment-details, receipt, reminder, expired, welcome, bulk. */
  kind: z.string().optional(),
  attempts: z.number().int().optional(),
  /** The operator's reason when delivery failed (Africa's Talking failureReason). */
  failureReason: z.string().nullable().optional(),
  sentAt: z.string().nullable().optional(),
  deliveredAt: z.string().nullable().optional(),
  createdAt: z.string(),
});
/** An SMS view. */
export type SmsView = z.infer<typeof SmsView>;
