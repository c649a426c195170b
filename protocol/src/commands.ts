import * as z from 'zod';
import { CustomerRef, CustomerSpec, PlanSpec } from './desired-state.ts';
import { HotspotReadPayload, HotspotRouterReport, HotspotSetupPayload, VouchersApplyPayload } from './hotspot.ts';
import { MarkerId, RouterName } from './validation.ts';

/** Apply a customer's desired state (idempotent). */
export const CustomerApplyPayload = z
  .object({
    router: RouterName,
    customer: CustomerSpec,
    /** The customer was never on this router (its first job): the agent adds its entries straight away, one round trip, and looks only if the router says they exist. Sent to agents of capability 2 and up. */
    fresh: z.literal(true).optional(),
  })
  .strict();
/** Remove a customer's entries and sessions. */
export const CustomerRemovePayload = z.object({ router: RouterName, customer: CustomerRef }).strict();
/** Drop a customer's live session now. */
export const CustomerDisconnectPayload = z.object({ router: RouterName, customer: CustomerRef }).strict();
/** Apply a plan's profile (idempotent). */
export const PlanApplyPayload = z.object({ router: RouterName, plan: PlanSpec }).strict();
/** Remove a plan's profile. */
export const PlanRemovePayload = z.object({ router: RouterName, planId: MarkerId, connectionType: PlanSpec.shape.connectionType }).strict();
/**
 * Reconcile a whole router to the desired state. Large routers are sent in chunks that the agent
 * gathers by `reconcileId` before it touches the router.
 */
export const RouterReconcilePayload = z
  .object({
    router: RouterName,
    reconcileId: z.string().min(1).max(64),
    chunk: z.object({ index: z.number().int().min(0), count: z.number().int().min(1).max(1000) }).strict(),
    plans: z.array(PlanSpec).max(1000),
    customers: z.array(CustomerSpec).max(2000),
  })
  .strict();
/** Read back the managed entries of a router for NOC, one page at a time. */
export const RouterReadbackPayload = z
  .object({ router: RouterName, offset: z.number().int().min(0).default(0), limit: z.number().int().min(1).max(500).default(200) })
  .strict();
/** The menus an adoption scan reads and may mark (SPEC section 13). */
export const ADOPTION_MENUS = ['/ppp/secret', '/ppp/profile', '/ip/hotspot/user', '/ip/hotspot/user/profile', '/queue/simple'] as const;
/** A menu an adoption scan reads. */
export const AdoptionMenu = z.enum(ADOPTION_MENUS);
/** Read one page of the router's entries WITHOUT a Mtandao marker, to adopt them (read only). */
export const RouterAdoptionScanPayload = z
  .object({ router: RouterName, offset: z.number().int().min(0).default(0), limit: z.number().int().min(1).max(300).default(300) })
  .strict();
/**
 * Mark adopted entries: set the comment of each (found by its RouterOS id and checked by name)
 * to its marker, and change nothing else on it.
 */
export const RouterAdoptMarkPayload = z
  .object({
    router: RouterName,
    marks: z
      .array(
        z
          .object({
            menu: AdoptionMenu,
            id: z.string().regex(/^\*[0-9A-Fa-f]{1,16}$/),
            name: z.string().min(1).max(200),
            marker: z.string().regex(/^mtandao(-plan)?:[A-Za-z0-9_-]{1,64}$/),
          })
          .strict(),
      )
      .min(1)
      .max(1000),
  })
  .strict();
/** Check a router's health now. */
export const RouterHealthPayload = z.object({ router: RouterName }).strict();

/** The allow-list of command types and their payloads. No raw RouterOS or shell text ever travels. */
export const commandPayloads = {
  'customer.apply': CustomerApplyPayload,
  'customer.remove': CustomerRemovePayload,
  'customer.disconnect': CustomerDisconnectPayload,
  'plan.apply': PlanApplyPayload,
  'plan.remove': PlanRemovePayload,
  'router.reconcile': RouterReconcilePayload,
  'router.readback': RouterReadbackPayload,
  'router.health': RouterHealthPayload,
  'router.adoption-scan': RouterAdoptionScanPayload,
  'router.adopt-mark': RouterAdoptMarkPayload,
  'vouchers.apply': VouchersApplyPayload,
  'hotspot.setup': HotspotSetupPayload,
  'hotspot.read': HotspotReadPayload,
} as const;

/** An allow-listed command type. */
export type CommandType = keyof typeof commandPayloads;
/** Every allow-listed command type. */
export const COMMAND_TYPES = Object.keys(commandPayloads) as CommandType[];
/** Schema of a command type name. */
export const CommandTypeSchema = z.enum(COMMAND_TYPES as [CommandType, ...CommandType[]]);
/** The payload type of each command type. */
export type CommandPayload<T extends CommandType> = z.infer<(typeof commandPayloads)[T]>;
/** Payload of `customer.apply`. */
export type CustomerApplyPayload = CommandPayload<'customer.apply'>;
/** Payload of `customer.remove`. */
export type CustomerRemovePayload = CommandPayload<'customer.remove'>;
/** Payload of `customer.disconnect`. */
export type CustomerDisconnectPayload = CommandPayload<'customer.disconnect'>;
/** Payload of `plan.apply`. */
export type PlanApplyPayload = CommandPayload<'plan.apply'>;
/** Payload of `plan.remove`. */
export type PlanRemovePayload = CommandPayload<'plan.remove'>;
/** Payload of `router.reconcile`. */
export type RouterReconcilePayload = CommandPayload<'router.reconcile'>;
/** Payload of `router.readback`. */
export type RouterReadbackPayload = CommandPayload<'router.readback'>;
/** Payload of `router.health`. */
export type RouterHealthPayload = CommandPayload<'router.health'>;

/** Payload of `router.adoption-scan`. */
export type RouterAdoptionScanPayload = CommandPayload<'router.adoption-scan'>;
/** Payload of `router.adopt-mark`. */
export type RouterAdoptMarkPayload = CommandPayload<'router.adopt-mark'>;

/** An entry found by an adoption scan: every property as the router prints it, the password included (the controller encrypts it at once). */
export const FoundEntry = z
  .object({ menu: AdoptionMenu, id: z.string().max(32), name: z.string().max(200), props: z.record(z.string().max(64), z.string().max(1000)) })
  .strict();
/** An unmarked entry found on a router. */
export type FoundEntry = z.infer<typeof FoundEntry>;

/** One managed entry read back from a router. */
export const ManagedEntry = z.object({ menu: z.string(), id: z.string(), comment: z.string(), props: z.record(z.string(), z.string()) }).strict();
/** A managed entry as read back. */
export type ManagedEntry = z.infer<typeof ManagedEntry>;

/** What an apply reports back: the operations it had to write (empty when the router already matched). */
export const ApplyResult = z
  .object({
    changes: z.array(z.string().max(300)).max(200),
    /** Reconcile only: counts of what it found and fixed. */
    summary: z.record(z.string(), z.number().int()).optional(),
    /** Readback only: one page of managed entries. */
    entries: z.array(ManagedEntry).max(500).optional(),
    total: z.number().int().optional(),
    /** Adoption scan only: one page of unmarked entries (`total` counts them all). */
    found: z.array(FoundEntry).max(300).optional(),
    /** Health only. */
    health: z.lazy(() => RouterHealth).optional(),
    /** `hotspot.read` only: the agent sends these as `hotspot` messages and leaves them out of the ack. */
    hotspot: z
      .array(z.lazy(() => HotspotRouterReport))
      .max(1000)
      .optional(),
  })
  .strict();
/** The result of a command. */
export type ApplyResult = z.infer<typeof ApplyResult>;

/** The menus that hold customer entries (SPEC section 7), whose size a health probe reads. */
export const COUNTED_MENUS = ['/ppp/secret', '/ip/hotspot/user', '/queue/simple', '/ip/firewall/address-list'] as const;
/** A menu whose entries a health probe counts. */
export type CountedMenu = (typeof COUNTED_MENUS)[number];
const EntryCount = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31)
  .optional();
/**
 * How many entries each customer menu holds, managed or not (`print count-only`): fewer than the
 * controller applied there means entries went missing. A menu the router could not count is absent.
 */
export const EntryCounts = z
  .object({ '/ppp/secret': EntryCount, '/ip/hotspot/user': EntryCount, '/queue/simple': EntryCount, '/ip/firewall/address-list': EntryCount })
  .strict();
/** Entry counts per customer menu. */
export type EntryCounts = z.infer<typeof EntryCounts>;

/** A router's health as the agent sees it. */
export const RouterHealth = z
  .object({
    name: RouterName,
    reachable: z.boolean(),
    version: z.string().max(64).optional(),
    identity: z.string().max(128).optional(),
    /** Seconds since the router booted; smaller than last time means it restarted. */
    uptimeSeconds: z
      .number()
      .int()
      .min(0)
      .max(2 ** 40)
      .optional(),
    error: z.string().max(1000).optional(),
    /** Entries per customer menu; sent only to a controller of `ENTRY_COUNTS_CAPABILITY` and up. */
    entries: EntryCounts.optional(),
    checkedAt: z.string(),
  })
  .strict();
/** A router's health report. */
export type RouterHealth = z.infer<typeof RouterHealth>;
