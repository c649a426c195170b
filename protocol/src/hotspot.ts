import * as z from 'zod';
import { PlanSpec } from './desired-state.ts';
import { MarkerId, RouterName, USERNAME_PATTERN } from './validation.ts';

/** Comment marker of a voucher's hotspot user (not `mtandao:`: customer reconcile never prunes it). */
export const voucherMarker = (voucherId: string): string => `mtandao-voucher:${voucherId}`;
/** Prefix of every voucher marker. */
export const VOUCHER_MARKER_PREFIX = voucherMarker('');
/** Comment marker of the walled-garden entries that let a device reach the portal before login. */
export const PORTAL_MARKER = 'mtandao-portal';

/** A voucher as it lands on the router: a hotspot user named by its code. */
export const VoucherUser = z
  .object({
    voucherId: MarkerId,
    code: z.string().regex(USERNAME_PATTERN),
    /** `limit-uptime` in seconds (the plan's validity when it runs from first login). */
    limitUptimeSeconds: z
      .number()
      .int()
      .min(1)
      .max(2 ** 31)
      .optional(),
  })
  .strict();
/** One voucher's hotspot user. */
export type VoucherUser = z.infer<typeof VoucherUser>;

/** Put many vouchers of one plan on a router (and take used-up ones off), pipelined. */
export const VouchersApplyPayload = z
  .object({
    router: RouterName,
    plan: PlanSpec,
    add: z.array(VoucherUser).max(2000),
    remove: z.array(VoucherUser.pick({ voucherId: true, code: true })).max(2000),
  })
  .strict();
/** Payload of `vouchers.apply`. */
export type VouchersApplyPayload = z.infer<typeof VouchersApplyPayload>;

/** Keep the portal's hosts in the router's walled garden (marked entries; others untouched). */
export const HotspotSetupPayload = z
  .object({
    router: RouterName,
    portalHosts: z
      .array(z.string().regex(/^[A-Za-z0-9.-]{1,253}$/))
      .min(1)
      .max(5),
  })
  .strict();
/** Payload of `hotspot.setup`. */
export type HotspotSetupPayload = z.infer<typeof HotspotSetupPayload>;

/** Read who is online and voucher use now (the agent answers with a `hotspot` message). */
export const HotspotReadPayload = z.object({ router: RouterName }).strict();
/** Payload of `hotspot.read`. */
export type HotspotReadPayload = z.infer<typeof HotspotReadPayload>;

/** One logged-in device, from `/ip/hotspot/active`. */
export const HotspotSession = z
  .object({
    user: z.string().max(64),
    address: z.string().max(45),
    macAddress: z.string().max(17),
    uptimeSeconds: z.number().int().min(0),
    bytesIn: z.number().int().min(0),
    bytesOut: z.number().int().min(0),
  })
  .strict();
/** A hotspot session. */
export type HotspotSession = z.infer<typeof HotspotSession>;

/** A managed hotspot user's counters, from `/ip/hotspot/user` (only users that were ever used). */
export const HotspotUserUse = z
  .object({
    name: z.string().max(64),
    comment: z.string().max(80),
    uptimeSeconds: z.number().int().min(0),
    bytesIn: z.number().int().min(0),
    bytesOut: z.number().int().min(0),
  })
  .strict();
/** A hotspot user's use. */
export type HotspotUserUse = z.infer<typeof HotspotUserUse>;

/** Most sessions and users in one message (keeps a frame far below the controller's limit). */
export const HOTSPOT_REPORT_MAX = 800;

/** Hotspot status of one router, read in one batch. `part`/`parts` split a large router over messages. */
export const HotspotRouterReport = z
  .object({
    name: RouterName,
    part: z.number().int().min(0),
    parts: z.number().int().min(1).max(1000),
    active: z.array(HotspotSession).max(HOTSPOT_REPORT_MAX),
    users: z.array(HotspotUserUse).max(HOTSPOT_REPORT_MAX),
    /** Voucher users on the router (part 0): fewer than the controller expects means it lost some (a reset). */
    vouchersOnRouter: z.number().int().min(0).optional(),
    readAt: z.iso.datetime(),
  })
  .strict();
/** A router's hotspot report. */
export type HotspotRouterReport = z.infer<typeof HotspotRouterReport>;

/** The agent's hotspot status report: periodic, and after a `hotspot.read`. */
export const HotspotMessage = z
  .object({ type: z.literal('hotspot'), agentId: z.string().min(1).max(64), report: HotspotRouterReport, at: z.iso.datetime() })
  .strict();
/** A hotspot message. */
export type HotspotMessage = z.infer<typeof HotspotMessage>;
