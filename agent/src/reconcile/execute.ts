/**
 * Runs one verified command envelope against the router it names. Every allow-listed command type
 * of protocol/src/commands.ts maps to one desired-state operation; nothing else can reach a router.
 */
import type { ApplyResult, CommandType, RouterHealth, TypedEnvelope } from '@mtandao/protocol';
import { RouterError, type RouterClient } from '../drivers/types.ts';
import { applyCustomer, applyPlan, disconnectCustomer, removeCustomer, removePlan } from './apply.ts';
import { readback, reconcileRouter } from './router.ts';
import { adoptionScan, adoptMark } from './adoption.ts';
import { applyVouchers, readHotspot, setupHotspot } from './hotspot.ts';

/** An envelope of any command type, narrowed by its `type`. */
export type AnyEnvelope = { [T in CommandType]: TypedEnvelope<T> }[CommandType];

const clip = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** Checks the router now; never throws (an unreachable router is a health report, not an error). */
export async function checkHealth(client: RouterClient): Promise<RouterHealth> {
  const checkedAt = new Date().toISOString();
  try {
    const h = await client.health();
    return {
      name: client.name,
      reachable: true,
      version: clip(h.version, 64),
      identity: clip(h.identity, 128),
      ...(h.uptimeSeconds === undefined ? {} : { uptimeSeconds: h.uptimeSeconds }),
      checkedAt,
    };
  } catch (e) {
    const message = e instanceof RouterError && e.routerMessage ? `${e.message} (${e.routerMessage})` : e instanceof Error ? e.message : String(e);
    return { name: client.name, reachable: false, error: clip(message, 1000), checkedAt };
  }
}

/**
 * Applies a command to `client`, which must be the router the payload names. A `router.reconcile`
 * sent in one chunk is applied directly; one sent in several must be gathered by the caller and
 * given whole to {@link reconcileRouter}.
 */
export async function executeCommand(client: RouterClient, envelope: TypedEnvelope | AnyEnvelope): Promise<ApplyResult> {
  const env = envelope as AnyEnvelope;
  if (env.payload.router !== client.name) {
    throw new RouterError('invalid', `command ${env.id} is for router ${env.payload.router}, not ${client.name}`, { retryable: false });
  }
  switch (env.type) {
    case 'customer.apply':
      return applyCustomer(client, env.payload.customer, { fresh: env.payload.fresh === true });
    case 'customer.remove':
      return removeCustomer(client, env.payload.customer);
    case 'customer.disconnect':
      return disconnectCustomer(client, env.payload.customer);
    case 'plan.apply':
      return applyPlan(client, env.payload.plan);
    case 'plan.remove':
      return removePlan(client, env.payload.planId, env.payload.connectionType);
    case 'router.reconcile': {
      const { chunk, plans, customers } = env.payload;
      if (chunk.count !== 1) {
        throw new RouterError('invalid', `reconcile ${env.payload.reconcileId} comes in ${chunk.count} chunks: gather them and call reconcileRouter`, {
          retryable: false,
        });
      }
      return reconcileRouter(client, { plans, customers });
    }
    case 'router.readback':
      return readback(client, { offset: env.payload.offset, limit: env.payload.limit });
    case 'router.health':
      return { changes: [], health: await checkHealth(client) };
    case 'router.adoption-scan':
      return adoptionScan(client, { offset: env.payload.offset, limit: env.payload.limit });
    case 'router.adopt-mark':
      return adoptMark(client, env.payload);
    case 'vouchers.apply':
      return applyVouchers(client, env.payload);
    case 'hotspot.setup':
      return setupHotspot(client, env.payload.portalHosts);
    case 'hotspot.read': {
      const reports = await readHotspot(client);
      return { changes: [], hotspot: reports };
    }
  }
}
