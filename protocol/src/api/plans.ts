import * as z from 'zod';
import { ConnectionType, ValidityUnit } from '../enums.ts';
import { isWin1252, RATE_PATTERN, WIN1252_MESSAGE } from '../validation.ts';
import { Amount, Id } from './common.ts';

/** The longest validity of a plan, per unit: ten years. */
const MAX_VALIDITY: Record<z.infer<typeof ValidityUnit>, number> = { minutes: 10 * 366 * 1440, hours: 10 * 366 * 24, days: 3660, months: 120 };

/** The message of a plan missing its essentials (contract). */
export const PLAN_REQUIRED_MESSAGE = 'Name, price, speed and validity are required';

const present = (v: unknown) => v !== undefined && v !== null && !(typeof v === 'string' && v.trim() === '');

const PlanFields = {
  name: z.string({ error: 'Name must be text' }).trim().max(100, 'Name must be at most 100 characters').refine(isWin1252, `Name ${WIN1252_MESSAGE}`),
  connectionType: ConnectionType,
  price: Amount('Price'),
  downloadSpeed: z.string({ error: 'Download speed must be text' }).trim().regex(RATE_PATTERN, 'Download speed must look like 10M or 512k'),
  uploadSpeed: z.string({ error: 'Upload speed must be text' }).trim().regex(RATE_PATTERN, 'Upload speed must look like 10M or 512k'),
  validity: z
    .object({
      count: z.coerce
        .number({ error: 'Validity count must be a number' })
        .int('Validity count must be a whole number')
        .min(1, 'Validity count must be at least 1')
        .max(100000),
      unit: ValidityUnit,
    })
    .refine((v) => v.count <= MAX_VALIDITY[v.unit], { path: ['count'], message: 'Validity must be at most 10 years' }),
  dataLimit: z.union([z.coerce.number().int().min(1), z.null()], { error: 'Data limit must be a number of bytes' }).optional(),
  sharedUsers: z.union([z.coerce.number().int().min(1).max(1000), z.null()], { error: 'Shared users must be a number' }).optional(),
  routerIds: z.array(Id('Router')).max(500).optional(),
  poolIds: z.array(Id('Pool')).max(100).optional(),
};

/** `POST /plans`: missing name, price, speed or validity → one contract message. */
export const CreatePlanRequest = z
  .looseObject({})
  .superRefine((body, ctx) => {
    for (const key of ['name', 'price', 'downloadSpeed', 'uploadSpeed', 'validity'] as const) {
      if (!present(body[key])) {
        ctx.addIssue({ code: 'custom', path: [key], message: PLAN_REQUIRED_MESSAGE });
        return z.NEVER;
      }
    }
    const v = body.validity as Record<string, unknown> | undefined;
    if (typeof v !== 'object' || v === null || !present(v.count) || !present(v.unit)) {
      ctx.addIssue({ code: 'custom', path: ['validity'], message: PLAN_REQUIRED_MESSAGE });
    }
  })
  .pipe(
    z.object({
      ...PlanFields,
      connectionType: ConnectionType.or(z.undefined())
        .refine((v) => v !== undefined, 'Connection type is required')
        .transform((v) => v!),
    }),
  );
/** Plan creation body. */
export type CreatePlanRequest = z.infer<typeof CreatePlanRequest>;

/** `PATCH /plans/:id`. */
export const UpdatePlanRequest = z
  .object({
    name: PlanFields.name.min(1, PLAN_REQUIRED_MESSAGE),
    price: PlanFields.price,
    downloadSpeed: PlanFields.downloadSpeed,
    uploadSpeed: PlanFields.uploadSpeed,
    validity: PlanFields.validity,
    dataLimit: PlanFields.dataLimit,
    sharedUsers: PlanFields.sharedUsers,
    routerIds: PlanFields.routerIds,
    poolIds: PlanFields.poolIds,
  })
  .partial();
/** Plan update body. */
export type UpdatePlanRequest = z.infer<typeof UpdatePlanRequest>;

/** An Internet plan. */
export const PlanView = z.object({
  id: z.string(),
  name: z.string(),
  connectionType: ConnectionType,
  price: z.string(),
  downloadSpeed: z.string(),
  uploadSpeed: z.string(),
  validity: z.object({ count: z.number().int(), unit: ValidityUnit }),
  dataLimit: z.number().nullable(),
  sharedUsers: z.number().nullable(),
  routerIds: z.array(z.string()),
  poolIds: z.array(z.string()),
  customerCount: z.number().int(),
  /** Whether the plan has everything a customer needs (routers, and pools for PPPoE/Static). */
  complete: z.boolean(),
  /** hidden from new customers, kept for existing ones */
  archived: z.boolean(),
  createdAt: z.string(),
});
/** A plan view. */
export type PlanView = z.infer<typeof PlanView>;

/** `GET /plans` query. */
export const PlanListQuery = z.object({ connectionType: ConnectionType.optional() });
