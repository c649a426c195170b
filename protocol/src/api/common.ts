import * as z from 'zod';

/** A required text field whose missing message names it ("Full name is required"). */
export const requiredText = (label: string, max = 200) =>
  z
    .string({ error: (iss) => (iss.input === undefined || iss.input === null ? `${label} is required` : `${label} must be text`) })
    .trim()
    .min(1, `${label} is required`)
    .max(max, `${label} must be at most ${max} characters`);

/** An optional text field; empty text counts as absent. */
export const optionalText = (label: string, max = 200) =>
  z
    .string({ error: `${label} must be text` })
    .trim()
    .max(max, `${label} must be at most ${max} characters`)
    .optional()
    .nullable()
    .transform((v) => (v === '' || v === null ? undefined : v));

/** An id in a path or body: ids are decimal strings (numbers accepted). */
export const Id = (label: string) =>
  z
    .union([z.string(), z.number()], { error: (iss) => (iss.input === undefined || iss.input === null ? `${label} is required` : `${label} must be an id`) })
    .transform((v) => String(v).trim())
    .refine((v) => /^[1-9]\d{0,17}$/.test(v), `${label} must be an id`);

/** An amount of the major unit as a decimal string ("1500.00") or number. */
export const Amount = (label: string) =>
  z
    .union([z.string(), z.number()], {
      error: (iss) => (iss.input === undefined || iss.input === null ? `${label} is required` : `${label} must be an amount`),
    })
    .transform((v) => String(v).trim().replaceAll(',', ''))
    .refine((v) => /^\d{1,13}(\.\d{1,2})?$/.test(v), `${label} must be an amount like 1500.00`);

/** Treats '' and null like an absent field: forms post empty strings for blank inputs. */
export const blankAsAbsent = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' || v === null ? undefined : v), schema.optional());

/** An optional id. */
export const OptionalId = (label: string) => blankAsAbsent(Id(label));

/** A yes/no that also accepts the strings a form posts. */
export const Flag = (label: string) =>
  z
    .union([z.boolean(), z.enum(['true', 'false', 'yes', 'no', 'on', 'off', '1', '0'])], { error: `${label} must be yes or no` })
    .transform((v) => v === true || v === 'true' || v === 'yes' || v === 'on' || v === '1');

/** Page query of list endpoints. */
export const PageQuery = z.object({
  page: z.coerce.number({ error: 'page must be a number' }).int('page must be a whole number').min(1, 'page starts at 1').max(100000).default(1),
  pageSize: z.coerce.number({ error: 'pageSize must be a number' }).int().min(1).max(200, 'pageSize is at most 200').default(25),
});

/** The error body every failing request gets. */
export const ErrorBody = z.object({
  error: z.object({
    message: z.string(),
    code: z.string(),
    field: z.string().optional(),
    issues: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  }),
  requestId: z.string(),
});
/** An API error body. */
export type ErrorBody = z.infer<typeof ErrorBody>;

/** A list answer: `{items, total}`. */
export const listOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), total: z.number().int() });

const YEAR_1 = Date.parse('0001-01-01T00:00:00Z');
const YEAR_10000 = Date.parse('9999-12-31T23:59:59.999Z');

/** An ISO 8601 time with an offset, between the years 1 and 9999 (what PostgreSQL stores and JavaScript reads). */
export const IsoInstant = (field: string) =>
  z.iso.datetime({ offset: true, error: `${field} must be an ISO time` }).refine((v) => {
    const t = Date.parse(v);
    return Number.isFinite(t) && t >= YEAR_1 && t <= YEAR_10000;
  }, `${field} must be a time between the years 1 and 9999`);
