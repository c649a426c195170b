import { CreatePlanRequest, USERNAME_EXISTS_MESSAGE, type AdoptionScanView, type AdoptRequest, type PlanView } from '@mtandao/protocol/api';
import { customerMarker, USERNAME_PATTERN, type ConnectionType, type FoundEntry } from '@mtandao/protocol';
import { afterCommit, type Database } from '../db/database.ts';
import { outsideTransaction } from '../db/sequelize.ts';
import { parseIp, type Range } from '../domain/ip-space.ts';
import { addValidity } from '../domain/validity.ts';
import { AppError, notFound } from '../errors.ts';
import type { RequestMeta } from '../http/route.ts';
import type { Logger } from '../logger.ts';
import { normaliseKenyanMobile } from '../lib/phone.ts';
import { readablePassword, type SecretBox } from '../lib/secrets.ts';
import type { AdoptedCustomer, AdoptionRepository, EntryRow } from '../repositories/adoption.repository.ts';
import type { ImportPlanRow, ImportsRepository } from '../repositories/imports.repository.ts';
import type { RoutersRepository } from '../repositories/routers.repository.ts';
import type { AuditService } from './audit.service.ts';
import { passwordAad } from './customers.service.ts';
import { AddressAllocator } from './import-addresses.ts';
import { UsableSpace } from './ipam.service.ts';
import { adoptionKind, profileOf, suggestPlans, type Kind } from './adoption-profiles.ts';
import type { PlansService } from './plans.service.ts';
import type { ProvisioningService } from './provisioning.service.ts';

const PAGE = 300;
const PAGE_WAIT_MS = 60_000;
const entryAad = (scanId: string, menu: string, id: string) => `mtandao:adoption:${scanId}:${menu}:${id}:password`;
const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);
const CUSTOMER_TYPE: Partial<Record<Kind, ConnectionType>> = { pppoe: 'pppoe', hotspot: 'hotspot', static: 'static' };

/**
 * Import from router (SPEC section 13): scan a router through its agent for entries Mtandao does
 * not manage, suggest a plan per profile, and adopt the entries staff pick as customers that keep
 * their router passwords and addresses. The router changes only by the markers.
 */
export class AdoptionService {
  /** Scans running on this instance (tests wait on them). */
  readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly deps: {
      db: Database;
      repo: AdoptionRepository;
      imports: ImportsRepository;
      routers: RoutersRepository;
      provisioning: ProvisioningService;
      plans: PlansService;
      audit: AuditService;
      secretBox: SecretBox;
      logger: Logger;
    },
  ) {}

  /** Starts a scan: the agent reads the router page by page; follow it with {@link latest}. */
  async scan(meta: RequestMeta, routerId: string): Promise<AdoptionScanView> {
    const { db, repo, routers, provisioning, audit } = this.deps;
    const router = await routers.get(routerId);
    if (!router) throw notFound('Router');
    if (!router.agent_connected) throw new AppError(409, `The agent of ${router.site_name} is offline: the router cannot be read now`);
    const { scanId, jobId } = await db.transaction(async (tx) => {
      const scanId = await repo.createScan(routerId, meta.actor.userId, tx);
      const [jobId] = await provisioning.enqueue(
        tx,
        [{ routerId, type: 'router.adoption-scan', reason: `adoption scan ${scanId} by ${meta.actor.username}`, payload: { offset: 0, limit: PAGE } }],
        meta.actor.userId,
      );
      await audit.record(meta, 'router.adoption-scan', 'router', routerId, { scanId }, tx);
      return { scanId, jobId: jobId! };
    });
    afterCommit(() =>
      outsideTransaction(() => {
        const work = this.follow(meta, routerId, scanId, jobId).catch(async (err: unknown) => {
          this.deps.logger.error({ err, routerId }, 'adoption scan failed');
          await repo.finishScan(scanId, 'failed', 'The scan stopped on an internal error').catch(() => undefined);
        });
        this.running.set(scanId, work);
        void work.finally(() => this.running.delete(scanId));
      }),
    );
    return this.latest(routerId);
  }

  /** Waits for each page's answer, stores it (passwords encrypted) and asks for the next. */
  private async follow(meta: RequestMeta, routerId: string, scanId: string, firstJob: string): Promise<void> {
    const { db, repo, provisioning, secretBox } = this.deps;
    let jobId = firstJob;
    let offset = 0;
    for (;;) {
      const deadline = Date.now() + PAGE_WAIT_MS;
      let job = await provisioning.getRaw(jobId);
      while (job && job.status !== 'applied' && job.status !== 'failed' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        job = await provisioning.getRaw(jobId);
      }
      if (!job || job.status !== 'applied') {
        await repo.finishScan(
          scanId,
          'failed',
          job?.status === 'failed'
            ? `The router could not be read: ${job.router_error ?? job.last_error ?? 'unknown error'}`
            : 'The router did not answer in time (is its agent online?)',
        );
        return;
      }
      const found = (job.result?.found ?? []) as FoundEntry[];
      const total = Number(job.result?.total ?? 0);
      await repo.storePage(
        scanId,
        jobId,
        found.map((f) => {
          const { password, ...props } = f.props;
          return {
            menu: f.menu,
            routerEntryId: f.id,
            name: f.name,
            profile: profileOf(f.menu, props),
            props,
            passwordEnc: password ? secretBox.encrypt(password, entryAad(scanId, f.menu, f.id)) : null,
          };
        }),
      );
      offset += found.length;
      if (found.length === 0 || offset >= total) break;
      [jobId] = (await db.transaction((tx) =>
        provisioning.enqueue(
          tx,
          [{ routerId, type: 'router.adoption-scan', reason: `adoption scan ${scanId}, from entry ${offset + 1}`, payload: { offset, limit: PAGE } }],
          meta.actor.userId,
        ),
      )) as [string];
    }
    await repo.finishScan(scanId, 'done', null);
  }

  /** The latest scan of a router with what it found, grouped by profile, with a suggested plan for each. */
  async latest(routerId: string): Promise<AdoptionScanView> {
    const { repo, routers, imports } = this.deps;
    if (!(await routers.get(routerId))) throw notFound('Router');
    const scan = await repo.latestScan(routerId);
    if (!scan) throw new AppError(404, 'This router has not been scanned yet: start a scan first');
    const entries = await repo.entries(scan.id);
    const profiles = suggestPlans(entries, await imports.plans());
    return {
      id: String(scan.id),
      routerId: String(scan.router_id),
      status: scan.status,
      error: scan.error,
      createdAt: iso(scan.created_at)!,
      finishedAt: iso(scan.finished_at),
      profiles,
      entries: entries.map((e) => ({
        id: String(e.id),
        menu: e.menu,
        kind: adoptionKind(e.menu),
        name: e.name,
        profile: e.profile,
        props: e.props,
        customerId: e.customer_id,
        planId: e.plan_id,
        adoptedAt: iso(e.adopted_at),
        error: e.error,
      })),
    };
  }

  /**
   * Adopts the picked entries: each becomes a customer on the plan chosen for its profile, with the
   * router's password and address (which must lie in a pool of that plan on this router), and one
   * command marks them on the router. Entries that cannot be adopted are reported one by one.
   */
  async adopt(meta: RequestMeta, routerId: string, input: AdoptRequest) {
    const { db, repo, imports, provisioning, secretBox, audit } = this.deps;
    const scan = await repo.latestScan(routerId);
    if (!scan) throw new AppError(409, 'Scan this router first');
    if (scan.status !== 'done') throw new AppError(409, scan.status === 'running' ? 'The scan is still running' : 'The last scan failed: scan again');
    const all = new Map((await repo.entries(scan.id)).map((e) => [String(e.id), e]));
    const plans = new Map((await imports.plans()).map((p) => [p.id, p]));
    const picked: EntryRow[] = [];
    for (const id of new Set(input.entries)) {
      const e = all.get(id);
      if (!e) throw new AppError(422, `Entry ${id} is not in this router's latest scan`, { field: 'entries' });
      picked.push(e);
    }
    const taken = await repo.takenUsernames(picked.map((e) => e.name));
    const claimed = new Set<string>();
    const addresses = new AddressAllocator((ids) => imports.usedIps(ids));
    const explicitIps = picked.map((e) => (e.props['remote-address'] ?? e.props.target ?? '').replace(/\/32$/, '')).filter((ip) => parseIp(ip) !== undefined);
    addresses.reserve(explicitIps);
    const takenIps = (await imports.taken([], [], explicitIps)).ips;
    const claimedIps = new Set<string>();
    const errors: { entryId: string; name: string; error: string }[] = [];
    const ready: (Omit<AdoptedCustomer, 'id' | 'passwordEnc'> & { password: string; menu: string; routerEntryId: string })[] = [];
    const now = new Date();
    for (const e of picked) {
      const fail = (error: string) => errors.push({ entryId: String(e.id), name: e.name, error });
      const type = CUSTOMER_TYPE[adoptionKind(e.menu)];
      if (!type) {
        fail('Profiles are not adopted as customers: map them to a plan instead');
        continue;
      }
      if (e.customer_id) {
        fail('Already adopted');
        continue;
      }
      const planId = input.profiles[e.profile ?? ''];
      const plan = planId ? plans.get(planId) : undefined;
      if (!plan) {
        fail(planId ? 'Plan not found' : `Choose a plan for profile "${e.profile}"`);
        continue;
      }
      if (plan.connection_type !== type) {
        fail(`Plan ${plan.name} is not a ${type} plan`);
        continue;
      }
      if (!USERNAME_PATTERN.test(e.name)) {
        fail('The name cannot be a Mtandao username (3–64 letters, digits, ".", "_", "-" or "@")');
        continue;
      }
      if (taken.has(e.name.toLowerCase()) || claimed.has(e.name.toLowerCase())) {
        fail(USERNAME_EXISTS_MESSAGE);
        continue;
      }
      let address: { networkId: string; ip: string } | null = null;
      if (type !== 'hotspot') {
        const ipText = (type === 'pppoe' ? e.props['remote-address'] : e.props.target)?.replace(/\/32$/, '');
        if (ipText) {
          const ip = parseIp(ipText);
          const block = ip === undefined ? undefined : this.blockOf(plan, routerId, ip);
          if (!block) {
            fail(`IP address ${ipText} is outside every pool of plan ${plan.name} on this router`);
            continue;
          }
          if (takenIps.has(ipText) || claimedIps.has(ipText)) {
            fail(`IP address ${ipText} is not available: another customer has it`);
            continue;
          }
          claimedIps.add(ipText);
          address = { networkId: block.id, ip: ipText };
        } else if (type === 'static') {
          fail('The queue has no target address');
          continue;
        } else {
          address = (await addresses.next({ ...plan, blocks: plan.blocks.filter((b) => b.router_id === routerId) })) ?? null;
          if (!address) {
            fail(`No free IP address left in the pools of plan ${plan.name}`);
            continue;
          }
        }
      }
      const password = e.password_enc
        ? secretBox.decrypt(e.password_enc, entryAad(String(e.scan_id), e.menu, e.router_entry_id))
        : type === 'static'
          ? readablePassword()
          : '';
      if (!password) {
        fail('The entry has no password on the router');
        continue;
      }
      claimed.add(e.name.toLowerCase());
      const comment = (e.props.comment ?? '').trim();
      const phone = normaliseKenyanMobile(/(\+?254|0)[17]\d{8}/.exec(comment)?.[0] ?? '') ?? '';
      ready.push({
        entryId: String(e.id),
        connectionType: type,
        planId: plan.id,
        networkId: address?.networkId ?? null,
        ip: address?.ip ?? null,
        fullName: comment.slice(0, 200) || e.name,
        phone,
        username: e.name,
        password,
        menu: e.menu,
        routerEntryId: e.router_entry_id,
        status: e.props.disabled === 'true' || e.props.disabled === 'yes' ? 'suspended' : 'active',
        expiresAt: addValidity(now, plan.validity_count, plan.validity_unit),
      });
    }
    const ids = await repo.nextCustomerIds(Math.max(1, ready.length));
    const customers = ready.map((r, i) => ({ ...r, id: ids[i]!, passwordEnc: secretBox.encrypt(r.password, passwordAad(ids[i]!)) }));
    const actor = { userId: meta.actor.userId, username: meta.actor.username, requestId: meta.requestId, ip: meta.ip ?? null };
    const { written, jobId } = await db.transaction(async (tx) => {
      const written = await repo.insertCustomers(customers, actor, String(scan.id), tx);
      for (const c of customers)
        if (!written.has(c.id))
          errors.push({ entryId: c.entryId, name: c.username, error: 'Taken meanwhile: the username or IP address now belongs to another customer' });
      await repo.setErrors(errors, tx);
      const marks = customers
        .filter((c) => written.has(c.id))
        .map((c) => ({ menu: c.menu, id: c.routerEntryId, name: c.username, marker: customerMarker(c.id) }));
      let jobId: string | null = null;
      for (let i = 0; i < marks.length; i += 1000) {
        const [id] = await provisioning.enqueue(
          tx,
          [
            {
              routerId,
              type: 'router.adopt-mark',
              reason: `adopted ${Math.min(1000, marks.length - i)} entries (scan ${scan.id})`,
              payload: { marks: marks.slice(i, i + 1000) },
            },
          ],
          meta.actor.userId,
        );
        jobId = id ?? null;
      }
      await audit.record(meta, 'router.adopt', 'router', routerId, { scanId: scan.id, adopted: written.size, failed: errors.length }, tx);
      return { written, jobId };
    });
    const byEntry = new Map(customers.map((c) => [c.entryId, c]));
    return {
      adopted: written.size,
      failed: errors.length,
      results: picked.map((e) => {
        const c = byEntry.get(String(e.id));
        const err = errors.find((x) => x.entryId === String(e.id));
        return { entryId: String(e.id), name: e.name, customerId: c && written.has(c.id) ? c.id : null, error: err?.error ?? null };
      }),
      jobId,
    };
  }

  /** A plan made from a router profile found by the latest scan: its rate limit becomes the speeds. */
  async planFromProfile(
    meta: RequestMeta,
    routerId: string,
    input: { profile: string; name?: string | undefined; price: string; validity: { count: number; unit: 'minutes' | 'hours' | 'days' | 'months' } },
  ): Promise<PlanView> {
    const scan = await this.latest(routerId);
    const profile = scan.profiles.find((p) => p.name === input.profile);
    if (!profile)
      throw new AppError(422, `Profile "${input.profile}" is not in this router's latest scan`, {
        field: 'profile',
        issues: [{ field: 'profile', message: `Profile "${input.profile}" is not in this router's latest scan` }],
      });
    const [upload, download] = (profile.rateLimit ?? '').split(' ')[0]!.split('/');
    if (!upload || !download)
      throw new AppError(422, `Profile "${input.profile}" has no rate limit to take the speeds from: create the plan under Internet Plans`, {
        field: 'profile',
      });
    const pools = profile.connectionType === 'hotspot' ? [] : await this.deps.repo.routerPoolIds(routerId);
    const body = CreatePlanRequest.parse({
      name: input.name ?? `${input.profile} plan`,
      connectionType: profile.connectionType,
      price: input.price,
      downloadSpeed: download,
      uploadSpeed: upload,
      validity: input.validity,
      ...(profile.connectionType === 'hotspot' ? { routerIds: [routerId] } : { poolIds: pools }),
    });
    return this.deps.plans.create(meta, body);
  }

  private blockOf(plan: ImportPlanRow, routerId: string, ip: number) {
    return plan.blocks.find(
      (b) =>
        b.router_id === routerId &&
        new UsableSpace(
          b.cidr,
          b.gateway,
          b.reserved.map(([x, y]) => [parseIp(x)!, parseIp(y)!] as Range),
        ).contains(ip),
    );
  }
}
