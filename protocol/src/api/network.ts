import * as z from 'zod';
import { Id, requiredText } from './common.ts';

/** `POST /sites`. */
export const CreateSiteRequest = z.object({ name: requiredText('Name', 100) });

/** `PATCH /sites/:id`. */
export const UpdateSiteRequest = z.object({ name: requiredText('Name', 100).optional() });

/** A site and its agent as the controller sees it. */
export const SiteView = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  agent: z
    .object({
      id: z.string(),
      online: z.boolean(),
      lastSeenAt: z.string().nullable(),
      version: z.string().nullable(),
      hostname: z.string().nullable(),
      capability: z.number().nullable(),
    })
    .nullable(),
  routerCount: z.number().int(),
});
/** A site view. */
export type SiteView = z.infer<typeof SiteView>;

/** Answer of `POST /sites/:id/enrollment-tokens`: shown once. */
/** `POST /sites/:id/enrollment-tokens`: the token (shown once), and where agents reach the controller (its public URL). */
export const EnrollmentTokenView = z.object({ token: z.string(), expiresAt: z.string(), command: z.string(), controllerUrl: z.string() });

/** `POST /routers`. */
export const CreateRouterRequest = z.object({
  name: requiredText('Name', 64).regex(/^[A-Za-z0-9._ -]+$/, 'Name may hold letters, digits, space, ".", "_" and "-"'),
  siteId: Id('Site'),
  host: z.string().trim().max(255).optional(),
});

/** `PATCH /routers/:id`: a new name must match the agent's config file. */
export const UpdateRouterRequest = z.object({
  name: requiredText('Name', 64)
    .regex(/^[A-Za-z0-9._ -]+$/, 'Name may hold letters, digits, space, ".", "_" and "-"')
    .optional(),
  host: z.string().trim().max(255).optional(),
});

/** A router and its health as its agent last reported it. */
export const RouterView = z.object({
  id: z.string(),
  name: z.string(),
  siteId: z.string(),
  siteName: z.string(),
  host: z.string().nullable(),
  health: z.object({
    reachable: z.boolean().nullable(),
    version: z.string().nullable(),
    identity: z.string().nullable(),
    lastError: z.string().nullable(),
    checkedAt: z.string().nullable(),
  }),
  agentOnline: z.boolean(),
});
/** A router view. */
export type RouterView = z.infer<typeof RouterView>;

const Cidr = z.string({ error: 'Network must be a CIDR block like 10.64.0.0/16' }).trim();
const IpRange = z.string({ error: 'Reserved ranges look like 10.64.0.2-10.64.0.9' }).trim();

/** `POST /pools`. */
export const CreatePoolRequest = z.object({
  name: requiredText('Name', 100),
  routerId: Id('Router'),
  networks: z.array(Cidr, { error: 'Networks are required' }).min(1, 'At least one network is required').max(64),
  gateway: z
    .string()
    .trim()
    .optional()
    .nullable()
    .transform((v) => (v ? v : undefined)),
  reserved: z.array(IpRange).max(256).optional(),
});
/** Pool creation body. */
export type CreatePoolRequest = z.infer<typeof CreatePoolRequest>;

/** `PATCH /pools/:id`: networks listed replace the pool's blocks (a block with customers cannot go). */
export const UpdatePoolRequest = z.object({
  name: requiredText('Name', 100).optional(),
  networks: z.array(Cidr).min(1, 'At least one network is required').max(64).optional(),
  gateway: z.string().trim().optional().nullable(),
  reserved: z.array(IpRange).max(256).optional(),
});

/** One block of a pool with its utilisation. */
export const NetworkView = z.object({
  id: z.string(),
  poolId: z.string(),
  poolName: z.string(),
  cidr: z.string(),
  prefixLength: z.number().int(),
  usable: z.number().int(),
  used: z.number().int(),
  free: z.number().int(),
  /** true for blocks bigger than /24: staff search by prefix instead of a dropdown. */
  searchable: z.boolean(),
});
/** A network view. */
export type NetworkView = z.infer<typeof NetworkView>;

/** A pool with its blocks and utilisation. */
export const PoolView = z.object({
  id: z.string(),
  name: z.string(),
  routerId: z.string(),
  routerName: z.string(),
  gateway: z.string().nullable(),
  reserved: z.array(z.string()),
  networks: z.array(NetworkView),
  usable: z.number().int(),
  used: z.number().int(),
  free: z.number().int(),
  utilisation: z.number(),
});
/** A pool view. */
export type PoolView = z.infer<typeof PoolView>;

/** `GET /networks/:id/available-ips` query. */
export const AvailableIpsQuery = z.object({
  prefix: z.string().trim().max(15, 'prefix is at most 15 characters').optional().default(''),
  limit: z.coerce.number({ error: 'limit must be a number' }).int().min(1, 'limit is at least 1').max(1024, 'limit is at most 1024').optional(),
});

/** Available addresses of a block. */
export const AvailableIps = z.object({ ips: z.array(z.string()), truncated: z.boolean() });
/** Available addresses answer. */
export type AvailableIps = z.infer<typeof AvailableIps>;
