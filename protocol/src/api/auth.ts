import * as z from 'zod';
import { Role } from '../enums.ts';
import { requiredText } from './common.ts';

/** `POST /auth/login`. */
export const LoginRequest = z.object({
  username: requiredText('Username', 100),
  password: z.string({ error: 'Password is required' }).min(1, 'Password is required').max(1000),
});
/** Login body. */
export type LoginRequest = z.infer<typeof LoginRequest>;

/** The signed-in staff member. */
export const Me = z.object({ id: z.string(), username: z.string(), role: Role, fullName: z.string().nullable() });
/** The current user. */
export type Me = z.infer<typeof Me>;

/** `POST /auth/tokens`: the token expires after `expiresInDays` (90 unless given, at most 365). */
export const CreateApiTokenRequest = z.object({
  name: requiredText('Name', 100),
  expiresInDays: z.coerce.number().int().min(1).max(365, 'A token lasts at most 365 days').optional(),
});

/** An API token as listed (the secret is shown only once, at creation). */
export const ApiTokenView = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
});

/** A staff account. */
export const UserView = z.object({
  id: z.string(),
  username: z.string(),
  role: Role,
  fullName: z.string().nullable(),
  disabled: z.boolean(),
  lastLoginAt: z.string().nullable(),
  createdAt: z.string(),
});
/** A staff account view. */
export type UserView = z.infer<typeof UserView>;

const StaffPassword = z
  .string({ error: 'Password is required' })
  .min(10, 'Password must be at least 10 characters')
  .max(200, 'Password must be at most 200 characters');
const StaffUsername = requiredText('Username', 64).regex(/^[A-Za-z0-9._@-]{3,64}$/, 'Username must be 3–64 letters, digits, ".", "_", "-" or "@"');

/** `POST /users`. */
export const CreateUserRequest = z.object({
  username: StaffUsername,
  password: StaffPassword,
  role: Role.or(z.undefined())
    .refine((v) => v !== undefined, 'Role is required')
    .transform((v) => v!),
  fullName: z.string().trim().max(200).optional(),
});

/** `PATCH /users/:id`. */
export const UpdateUserRequest = z.object({
  password: StaffPassword.optional(),
  role: Role.optional(),
  fullName: z.string().trim().max(200).optional(),
  disabled: z.boolean().optional(),
});
