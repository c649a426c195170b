import * as z from 'zod';
import { ConnectionType, CustomerStatus } from './enums.ts';
import { Ipv4, isWin1252, MarkerId, Rate, RouterPassword, Username, WIN1252_MESSAGE } from './validation.ts';

/** What a plan's profile on a router should look like. */
export const PlanSpec = z
  .object({
    planId: MarkerId,
    name: z.string().min(1).max(100).refine(isWin1252, `Plan name ${WIN1252_MESSAGE}`),
    connectionType: ConnectionType,
    /** Upload (router's rx) speed, RouterOS notation. */
    uploadSpeed: Rate,
    /** Download (router's tx) speed, RouterOS notation. */
    downloadSpeed: Rate,
    /** PPPoE: `local-address` of the profile (the pool gateway). */
    localAddress: Ipv4.optional(),
    /** Hotspot: `shared-users`. */
    sharedUsers: z.number().int().min(1).max(1000).optional(),
    /** Hotspot: total bytes a user may transfer (`limit-bytes-total`). */
    dataLimitBytes: z.number().int().min(1).optional(),
  })
  .strict();
/** Desired state of a plan's profile. */
export type PlanSpec = z.infer<typeof PlanSpec>;

/** What a customer's entries on a router should look like. */
export const CustomerSpec = z
  .object({
    customerId: MarkerId,
    connectionType: ConnectionType,
    username: Username,
    password: RouterPassword,
    /** `active` lands enabled; `suspended`/`expired`/`inactive` land disabled (static: blocked). */
    status: CustomerStatus,
    /** PPPoE `remote-address`, Static queue target. */
    ipAddress: Ipv4.optional(),
    plan: PlanSpec,
  })
  .strict();
/** Desired state of one customer. */
export type CustomerSpec = z.infer<typeof CustomerSpec>;

/** Identifies a customer's entries for removal or disconnection. */
export const CustomerRef = z
  .object({
    customerId: MarkerId,
    connectionType: ConnectionType,
    username: Username,
    ipAddress: Ipv4.optional(),
  })
  .strict();
/** Reference to a customer's entries on a router. */
export type CustomerRef = z.infer<typeof CustomerRef>;

/** Comment marker on every customer entry Mtandao manages. */
export const customerMarker = (customerId: string): string => `mtandao:${customerId}`;
/** Comment marker on every plan profile Mtandao manages. */
export const planMarker = (planId: string): string => `mtandao-plan:${planId}`;
/** Address list of static customers allowed through. */
export const ACTIVE_ADDRESS_LIST = 'mtandao-active';
/** Address list of static customers blocked (suspended or expired). */
export const BLOCKED_ADDRESS_LIST = 'mtandao-blocked';
