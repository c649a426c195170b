import { IP_NOT_AVAILABLE_MESSAGE, IP_REQUIRED_MESSAGE, PLAN_REQUIRED_MESSAGE, USERNAME_EXISTS_MESSAGE } from '@mtandao/protocol/api';
import type { ConnectionType } from '@mtandao/protocol';
import { AppError, type FieldIssue } from '../errors.ts';
import { formatIp, parseIp, type Range } from '../domain/ip-space.ts';
import type { BlockRow } from '../repositories/pools.repository.ts';
import { uniqueViolation } from '../db/database.ts';
import { UsableSpace } from './ipam.service.ts';
import { planIsComplete } from './plans.service.ts';

// Checks shared by Add Customer, edits and plan changes: each names its field.

/** Collects field problems so one answer names them all, the first leading. */
export class Problems {
  readonly list: (FieldIssue & { status: number })[] = [];
  add(field: string, message: string, status = 422): void {
    if (!this.list.some((p) => p.field === field)) this.list.push({ field, message, status });
  }
  has(field: string): boolean {
    return this.list.some((p) => p.field === field);
  }
  throwIfAny(order: string[]): void {
    if (this.list.length === 0) return;
    const rank = (f: string) => {
      const i = order.indexOf(f.split('.')[0]!);
      return i < 0 ? order.length : i;
    };
    const sorted = [...this.list].sort((a, b) => rank(a.field) - rank(b.field));
    const first = sorted[0]!;
    throw new AppError(first.status, first.message, { field: first.field, issues: sorted.map(({ field, message }) => ({ field, message })) });
  }
}

export const FORM_ORDER = [
  'connectionType',
  'planId',
  'networkId',
  'ipAddress',
  'fullName',
  'phone',
  'email',
  'username',
  'password',
  'additionalAccountNumber',
  'payment',
  'autoActivate',
];

/** Checks a plan can take a customer of this type. */
export function validatePlan<
  P extends {
    connection_type: ConnectionType;
    name: string;
    price_minor: string | null;
    download_speed: string;
    upload_speed: string;
    validity_count: number;
    archived?: boolean;
    router_ids: string[];
    pool_ids: string[];
  },
>(problems: Problems, plan: P | null, connectionType: ConnectionType): P | undefined {
  if (!plan) {
    problems.add('planId', 'Plan not found');
    return undefined;
  }
  if (plan.connection_type !== connectionType) {
    problems.add('planId', `This plan is for ${label(plan.connection_type)} customers; choose a ${label(connectionType)} plan`);
    return undefined;
  }
  if (plan.archived) {
    problems.add('planId', 'This plan is archived: choose another plan');
    return undefined;
  }
  if (!plan.name || plan.price_minor === null || !plan.download_speed || !plan.upload_speed || !plan.validity_count) {
    problems.add('planId', PLAN_REQUIRED_MESSAGE);
    return undefined;
  }
  if (!planIsComplete({ connectionType: plan.connection_type }, plan.router_ids, plan.pool_ids)) {
    problems.add(
      'planId',
      connectionType === 'hotspot'
        ? 'This plan is not on any router yet: add a router to it under Internet Plans'
        : 'This plan has no IP pool yet: add one under Internet Plans',
    );
    return undefined;
  }
  return plan;
}

/**
 * Checks network and IP for PPPoE/Static: the block must be one of the plan's and the address
 * usable in it. Whether it is free is the unique index's to say, at insert (409).
 */
export function validateAddress(
  problems: Problems,
  blocks: BlockRow[],
  networkId: string | undefined,
  ipAddress: string | undefined,
): { block: BlockRow; ip: string } | undefined {
  let block: BlockRow | undefined;
  if (networkId) {
    block = blocks.find((n) => String(n.id) === networkId);
    if (!block) problems.add('networkId', "Network address is not one of this plan's blocks");
  } else if (blocks.length === 1) {
    block = blocks[0]; // a plan with one block: auto-selected, as the form does
  } else {
    problems.add('networkId', 'Network address is required');
  }
  if (!ipAddress) {
    problems.add('ipAddress', IP_REQUIRED_MESSAGE);
    return undefined;
  }
  const ip = parseIp(ipAddress);
  if (ip === undefined) {
    problems.add('ipAddress', 'IP address must be an IPv4 address like 10.64.3.10');
    return undefined;
  }
  if (!block) return undefined;
  const space = new UsableSpace(
    block.cidr,
    block.gateway,
    block.reserved.map(([a, b]) => [parseIp(a)!, parseIp(b)!] as Range),
  );
  if (!space.contains(ip)) {
    problems.add('ipAddress', IP_NOT_AVAILABLE_MESSAGE, 422);
    return undefined;
  }
  return { block, ip: formatIp(ip) };
}

function label(t: ConnectionType): string {
  return t === 'pppoe' ? 'PPPoE' : t === 'hotspot' ? 'Hotspot' : 'Static';
}

export function translateUnique(err: unknown): unknown {
  const constraint = uniqueViolation(err);
  if (!constraint) return err;
  if (constraint === 'customers_ip_key')
    return new AppError(409, IP_NOT_AVAILABLE_MESSAGE, { field: 'ipAddress', issues: [{ field: 'ipAddress', message: IP_NOT_AVAILABLE_MESSAGE }] });
  if (constraint === 'customers_username_key')
    return new AppError(409, USERNAME_EXISTS_MESSAGE, { field: 'username', issues: [{ field: 'username', message: USERNAME_EXISTS_MESSAGE }] });
  if (constraint === 'customers_account_key') return new AppError(409, 'Account number already exists', { field: 'username' });
  if (constraint === 'customers_additional_account_key')
    return new AppError(409, 'Additional account number already exists', { field: 'additionalAccountNumber' });
  return err;
}
