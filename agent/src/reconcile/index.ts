/**
 * The desired-state logic of SPEC section 7, written once over {@link RouterClient} so the API and
 * SSH drivers land the same entries.
 *
 * - `applyPlan(client, plan)` / `removePlan(client, planId, connectionType)`: a plan's profile.
 * - `applyCustomer(client, customer, { fresh })`: profile, then the customer's entries (one round trip
 *   when the customer is new or known, ./known.ts); sessions dropped on
 *   change and whenever the customer is not active; entries of a former connection type removed.
 * - `removeCustomer(client, ref)` / `disconnectCustomer(client, ref)`: idempotent.
 * - `reconcileRouter(client, { plans, customers }, { prune })`: a whole router, pipelined, with a
 *   summary (created, updated, removed, unchanged, kicked, conflicts, failed).
 * - `readback(client, { offset, limit })`: a page of managed entries for NOC, passwords left out.
 * - `executeCommand(client, envelope)`: dispatches every allow-listed command type.
 * - `checkHealth(client)`: a RouterHealth report that never throws.
 */
export { applyCustomer, applyPlan, disconnectCustomer, removeCustomer, removePlan, type ApplyCustomerOptions } from './apply.ts';
export { knownOf, KnownEntries } from './known.ts';
export { checkHealth, executeCommand, type AnyEnvelope } from './execute.ts';
export { customerEntries, difference, managedProps, profileEntry, MENU, type DesiredEntry } from './model.ts';
export { readback, reconcileRouter, ReconcileError, type DesiredState, type ReconcileOptions } from './router.ts';
export type { Summary } from './writer.ts';
export { applyVouchers, readHotspot, setupHotspot } from './hotspot.ts';
