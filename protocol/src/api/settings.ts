import * as z from 'zod';

/** SMS providers. */
export const SmsProvider = z.enum(['log', 'africastalking']);

/** Settings staff edit (secrets are write-only: reads show whether one is set). */
export const UpdateSettingsRequest = z.object({
  paybillNumber: z
    .string()
    .trim()
    .regex(/^\d{5,7}$/, 'Paybill number must be 5–7 digits')
    .optional(),
  companyName: z.string().trim().min(1).max(100).optional(),
  smsProvider: SmsProvider.optional(),
  africastalking: z
    .object({
      username: z.string().trim().min(1, 'Username is required').max(100),
      apiKey: z.string().trim().min(1).max(200).optional(),
      senderId: z.string().trim().max(11).optional().nullable(),
      baseUrl: z.string().url('Base URL must be a URL').optional().nullable(),
    })
    .optional(),
});

/** Settings as read back. */
export const SettingsView = z.object({
  paybillNumber: z.string().nullable(),
  companyName: z.string(),
  currency: z.string(),
  timezone: z.string(),
  smsProvider: SmsProvider,
  africastalking: z.object({ username: z.string().nullable(), apiKeySet: z.boolean(), senderId: z.string().nullable(), baseUrl: z.string().nullable() }),
});
/** A settings view. */
export type SettingsView = z.infer<typeof SettingsView>;
