import * as z from 'zod';

/** How a customer connects: decides what lands on the router. */
export const ConnectionType = z.enum(['pppoe', 'hotspot', 'static']);
/** A connection type value. */
export type ConnectionType = z.infer<typeof ConnectionType>;

/** A customer's subscription status. */
export const CustomerStatus = z.enum(['inactive', 'active', 'expired', 'suspended']);
/** A customer status value. */
export type CustomerStatus = z.infer<typeof CustomerStatus>;

/** How a payment was made. */
export const PaymentMethod = z.enum(['cash', 'mpesa', 'bank', 'cheque']);
/** A payment method value. */
export type PaymentMethod = z.infer<typeof PaymentMethod>;

/** What a payment is for. */
export const PaymentKind = z.enum(['plan', 'installation', 'debt', 'adjustment']);
/** A payment kind value. */
export type PaymentKind = z.infer<typeof PaymentKind>;

/** Which side of the customer's account an entry is on: credits add to the balance, charges take from it. */
export const LedgerSide = z.enum(['credit', 'charge']);
/** A ledger side value. */
export type LedgerSide = z.infer<typeof LedgerSide>;

/** What a ledger entry is: credits `payment|adjustment|reversal`, charges `plan|installation|debt|adjustment|reversal`. */
export const LedgerKind = z.enum(['payment', 'plan', 'installation', 'debt', 'adjustment', 'reversal']);
/** A ledger kind value. */
export type LedgerKind = z.infer<typeof LedgerKind>;

/** Staff roles; `noc` is read-only. */
export const Role = z.enum(['admin', 'staff', 'noc']);
/** A staff role value. */
export type Role = z.infer<typeof Role>;

/** Units a plan's validity is counted in. */
export const ValidityUnit = z.enum(['minutes', 'hours', 'days', 'months']);
/** A validity unit value. */
export type ValidityUnit = z.infer<typeof ValidityUnit>;

/** Life of a provisioning job. */
export const JobStatus = z.enum(['pending', 'sent', 'applied', 'failed']);
/** A provisioning job status value. */
export type JobStatus = z.infer<typeof JobStatus>;

/** How an agent reaches a router. */
export const RouterTransport = z.enum(['api', 'api-ssl', 'ssh']);
/** A router transport value. */
export type RouterTransport = z.infer<typeof RouterTransport>;
