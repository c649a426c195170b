import * as z from 'zod';

/** The automatic messages whose text staff edit. */
export const SmsTemplateKind = z.enum(['paymentDetails', 'paymentReceived', 'expiryReminder', 'expired', 'welcome']);
/** A template kind. */
export type SmsTemplateKind = z.infer<typeof SmsTemplateKind>;

const Template = z.string().trim().min(1, 'Template must not be empty').max(640, 'Template must be at most 640 characters (4 SMS)');

/** The text of each automatic message, with {name} {username} {account} {amount} {balance} {plan} {expiry} {paybill} {company}. */
export const SmsTemplates = z.object({
  paymentDetails: Template,
  paymentReceived: Template,
  expiryReminder: Template,
  expired: Template,
  welcome: Template,
});
/** The templates. */
export type SmsTemplates = z.infer<typeof SmsTemplates>;

/** Templates and when the automatic messages go out. */
export const SmsTemplateSettings = z.object({
  templates: SmsTemplates,
  /** Days before expiry a reminder goes out, e.g. [3, 1]. */
  reminderDays: z.array(z.number().int().min(1).max(60)).max(5),
  /** Whether a new customer gets the welcome message. */
  welcomeEnabled: z.boolean(),
  /** Whether payments get a receipt SMS. */
  receiptsEnabled: z.boolean(),
});
/** SMS template settings. */
export type SmsTemplateSettings = z.infer<typeof SmsTemplateSettings>;

/** `PUT /settings/sms-templates`: any part; the rest stays. */
export const UpdateSmsTemplatesRequest = z.object({
  templates: SmsTemplates.partial().optional(),
  reminderDays: z
    .array(z.number().int('Reminder days must be whole days').min(1, 'Reminder days must be 1 to 60').max(60, 'Reminder days must be 1 to 60'))
    .max(5, 'At most 5 reminders')
    .optional(),
  welcomeEnabled: z.boolean().optional(),
  receiptsEnabled: z.boolean().optional(),
});

/** `GET /settings/sms-templates`: the settings, placeholders, a preview of each with sample data and the delivery-report URL. */
export const SmsTemplatesView = SmsTemplateSettings.extend({
  placeholders: z.array(z.string()),
  preview: z.record(z.string(), z.string()),
  sample: z.record(z.string(), z.string()),
  /** Where Africa's Talking posts delivery reports (paste into its dashboard). */
  deliveryReportUrl: z.string(),
});
/** What the templates page reads. */
export type SmsTemplatesView = z.infer<typeof SmsTemplatesView>;

/** The customer-list filters a bulk SMS goes to (the same as the list's). */
export const BulkSmsFilter = z.object({
  search: z.string().trim().max(100).optional(),
  status: z.enum(['inactive', 'active', 'expired', 'suspended']).optional(),
  connectionType: z.enum(['pppoe', 'hotspot', 'static']).optional(),
  planId: z
    .string()
    .regex(/^\d{1,18}$/, 'Plan is not valid')
    .optional(),
  siteId: z
    .string()
    .regex(/^\d{1,18}$/, 'Site is not valid')
    .optional(),
  routerId: z
    .string()
    .regex(/^\d{1,18}$/, 'Router is not valid')
    .optional(),
  expiringWithinDays: z.number().int().min(0).max(366).optional(),
  owing: z.boolean().optional(),
});

/** `POST /sms/bulk/preview`: how many customers a message would reach, and how it reads for the first. */
export const BulkSmsPreviewRequest = z.object({ filter: BulkSmsFilter.default({}), message: z.string().trim().max(640).default('') });
/** The count to confirm. */
export const BulkSmsPreview = z.object({ count: z.number().int(), sample: z.string().nullable() });

/** `POST /sms/bulk`: queues the message to every customer of the filter; `confirmCount` must match the count staff confirmed. */
export const BulkSmsRequest = z.object({
  filter: BulkSmsFilter.default({}),
  message: z.string().trim().min(1, 'Message is required').max(640, 'Message must be at most 640 characters'),
  confirmCount: z.number().int().min(1, 'Confirm the number of customers first'),
});
/** What was queued. */
export const BulkSmsResult = z.object({ queued: z.number().int(), batchId: z.string() });
