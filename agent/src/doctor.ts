import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import { authHeaders } from './channel/upgrade.ts';
import { websocketUrlOf } from './channel/endpoints.ts';
import type { AgentConfig } from './config.ts';
import { openRouter } from './drivers/index.ts';
import { RouterError, type RouterClient, type RouterConfig } from './drivers/types.ts';
import { createLogger } from './logger.ts';
import { HostKeyStore } from './state/host-keys.ts';
import type { LoadedIdentity } from './state/identity.ts';

/*
 * `mtandao-agent doctor`: what a field engineer checks by hand when a site gets nothing — the
 * controller (reachable, TLS, this agent's identity accepted, clocks), and each router (login over
 * its transport, RouterOS version, clock) — each answer in words.
 */

/** One finding: `fail` makes the doctor exit non-zero, `warn` does not. */
export interface DoctorFinding {
  status: 'ok' | 'warn' | 'fail';
  /** What was checked: `controller https://…`, a router's name. */
  subject: string;
  message: string;
}

/** What the doctor needs. */
export interface DoctorOptions {
  config: AgentConfig;
  /** Undefined when the state directory was never enrolled (reported, router checks still run). */
  identity: LoadedIdentity | undefined;
  stateDir: string;
  fetch?: typeof fetch;
  /** Per check; default 5 s. */
  timeoutMs?: number;
}

/** Clock differences that matter: the controller refuses an upgrade signed more than 60 s off. */
const CONTROLLER_SKEW_FAIL_MS = 60_000;
const SKEW_WARN_MS = 10_000;
const ROUTER_SKEW_FAIL_MS = 60_000;
/** The API login Mtandao uses (`/login` with name and password) arrived in RouterOS 6.43. */
const MIN_VERSION: [number, number] = [6, 43];

const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms))),
  ]).finally(() => clearTimeout(timer));
};

/** "3 min 20 s", "450 ms". */
export function formatSpan(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(abs)} ms`;
  const s = Math.round(abs / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const h = Math.floor(m / 60);
  return `${h} h${m % 60 ? ` ${m % 60} min` : ''}`;
}

/** "3 min ahead of", "12 s behind" (positive `skewMs`: the other clock is ahead of this machine). */
const aheadOrBehind = (skewMs: number): string => `${formatSpan(skewMs)} ${skewMs > 0 ? 'ahead of' : 'behind'}`;

/** Words for a failed fetch or dial: the cause's code first. */
export function describeNetworkError(err: unknown, target: string): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause ?? (err as { code?: string; message?: string });
  const code = cause?.code ?? '';
  if ((err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError')
    return `no answer from ${target} in time (a firewall dropping the packets, or the wrong address)`;
  if (code === 'ECONNREFUSED') return `nothing listens at ${target} (connection refused: wrong port, or the service is down)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `the name in ${target} does not resolve (DNS: ${code})`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `no route to ${target} (${code})`;
  if (code === 'ETIMEDOUT') return `connecting to ${target} timed out (a firewall dropping the packets, or the wrong address)`;
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(code)) return `TLS: the certificate of ${target} is not trusted (${code}: ${cause?.message ?? ''})`;
  return `${target}: ${cause?.message ?? (err as Error).message ?? String(err)}${code ? ` (${code})` : ''}`;
}

/** The controller base URLs this agent knows: enrolled first, then the config's failover list. */
function controllerBases(config: AgentConfig, identity: LoadedIdentity | undefined): string[] {
  const urls = [...(identity ? [identity.identity.controllerUrl, ...(identity.identity.controllerUrls ?? [])] : []), ...(config.controllers ?? [])].map((u) => {
    const url = new URL(u);
    if (url.protocol === 'ws:') url.protocol = 'http:';
    if (url.protocol === 'wss:') url.protocol = 'https:';
    url.pathname = '/';
    url.search = '';
    return url.toString();
  });
  return [...new Set(urls)];
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

async function checkControllerHttp(base: string, options: DoctorOptions): Promise<DoctorFinding[]> {
  const subject = `controller ${base}`;
  const url = new URL('readyz', base);
  const sentAt = Date.now();
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 5000) });
  } catch (err) {
    return [{ status: 'fail', subject, message: `cannot reach it: ${describeNetworkError(err, url.host)}` }];
  }
  const receivedAt = Date.now();
  await response.body?.cancel().catch(() => undefined);
  const findings: DoctorFinding[] = [];
  const tls = url.protocol === 'https:' ? ', TLS certificate trusted' : '';
  if (response.ok) findings.push({ status: 'ok', subject, message: `answers (HTTP ${response.status} from /readyz in ${receivedAt - sentAt} ms${tls})` });
  else if (response.status === 503)
    findings.push({ status: 'fail', subject, message: `answers but is not ready (HTTP 503 from /readyz): its database is down or it is still starting` });
  else
    findings.push({
      status: 'fail',
      subject,
      message: `answers HTTP ${response.status} at /readyz: is this the Mtandao controller's URL (not the dashboard's)?`,
    });
  if (url.protocol === 'http:' && !LOOPBACK.has(url.hostname)) {
    findings.push({ status: 'warn', subject, message: 'the link is not encrypted (http://): use https:// beyond this machine' });
  }
  const date = Date.parse(response.headers.get('date') ?? '');
  if (Number.isFinite(date)) {
    // the Date header has whole seconds: compare with the middle of the request, allow that second
    const skew = date + 500 - (sentAt + receivedAt) / 2;
    const words = `the controller's clock is ${aheadOrBehind(skew)} this machine`;
    if (Math.abs(skew) > CONTROLLER_SKEW_FAIL_MS)
      findings.push({
        status: 'fail',
        subject,
        message: `${words}: it refuses agents more than 60 s off; set NTP on this machine (timedatectl set-ntp true) or on the controller`,
      });
    else if (Math.abs(skew) > SKEW_WARN_MS) findings.push({ status: 'warn', subject, message: `${words} (refused past 60 s): check NTP` });
    else findings.push({ status: 'ok', subject, message: `clock within ${formatSpan(Math.max(1000, Math.abs(skew)))} of this machine` });
  }
  return findings;
}

/** Opens the WebSocket as this agent would and closes it at once: does the controller accept its identity? */
async function checkIdentityAccepted(base: string, identity: LoadedIdentity, timeoutMs: number): Promise<DoctorFinding> {
  const wsUrl = websocketUrlOf(base, identity.identity.websocketUrl);
  const subject = `controller ${base}`;
  return new Promise<DoctorFinding>((resolve) => {
    const ws = new WebSocket(wsUrl, {
      headers: authHeaders(identity.identity.agentId, identity.privateKey),
      handshakeTimeout: timeoutMs,
      perMessageDeflate: false,
    });
    const done = (finding: DoctorFinding): void => {
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
      resolve(finding);
    };
    ws.once('open', () => {
      ws.close(1000, 'doctor');
      done({ status: 'ok', subject, message: `accepts this agent (${identity.identity.agentId}) at ${wsUrl}` });
    });
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => {
        let reason = Buffer.concat(chunks).toString('utf8').slice(0, 300);
        try {
          reason = (JSON.parse(reason) as { error?: { message?: string } }).error?.message ?? reason;
        } catch {
          // plain text
        }
        const hint =
          res.statusCode === 401
            ? /clock|timestamp/i.test(reason)
              ? 'the clocks differ too much (see above)'
              : 'this agent was removed or the site enrolled another one; enrol again with a new token from the site page (mtandao-agent enroll … --force)'
            : 'is this the Mtandao controller?';
        done({
          status: 'fail',
          subject,
          message: `refuses this agent (${identity.identity.agentId}) at ${wsUrl}: HTTP ${res.statusCode} "${reason.trim()}": ${hint}`,
        });
      });
    });
    ws.once('error', (err) => done({ status: 'fail', subject, message: `WebSocket ${wsUrl}: ${describeNetworkError(err, new URL(wsUrl).host)}` }));
  });
}

/** RouterOS `/system/clock` (7.10+ `2026-12-01`, older `dec/01/2026`) as epoch ms, or undefined. */
export function parseRouterClock(row: Record<string, string | undefined>): number | undefined {
  const { date = '', time = '', 'gmt-offset': offset = '+00:00' } = row;
  const months = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
  let iso: string | undefined;
  const old = /^([a-z]{3})\/(\d{2})\/(\d{4})$/i.exec(date);
  if (/^\d{4}-\d{2}-\d{2}$/.test(date)) iso = date;
  else if (old) iso = `${old[3]}-${String(months.indexOf(old[1]!.toLowerCase()) + 1).padStart(2, '0')}-${old[2]}`;
  const off = /^([+-])(\d{2}):?(\d{2})$/.exec(offset);
  if (!iso || !/^\d{2}:\d{2}:\d{2}$/.test(time) || !off) return undefined;
  const at = Date.parse(`${iso}T${time}${off[1]}${off[2]}:${off[3]}`);
  return Number.isFinite(at) ? at : undefined;
}

function versionBelow(version: string, [major, minor]: [number, number]): boolean {
  const [a = 0, b = 0] = version.split(/[.\s]/).map((p) => Number.parseInt(p, 10) || 0);
  return a < major || (a === major && b < minor);
}

function describeRouterError(err: unknown, router: RouterConfig): string {
  const where = `${router.host}:${router.port} over ${router.transport}`;
  if (err instanceof RouterError) {
    const words = err.routerMessage ? ` (the router said: "${err.routerMessage}")` : '';
    if (err.category === 'login')
      return `the router refused the login of "${router.username}" at ${where}${words}: check the user, its password and that its group has the api (or ssh), read and write policies`;
    if (err.category === 'unreachable')
      return `cannot reach ${where}: ${err.message}${router.transport === 'ssh' ? '' : "; is /ip/service api enabled on that port, and the router's input firewall open to this machine?"}`;
    return `${where}: ${err.message}${words}`;
  }
  return `${where}: ${err instanceof Error ? err.message : String(err)}`;
}

async function checkRouter(router: RouterConfig, hostKeys: HostKeyStore | undefined, timeoutMs: number): Promise<DoctorFinding[]> {
  const subject = `router ${router.name}`;
  const client: RouterClient = openRouter(router, createLogger({ level: 'silent' }), { ssh: hostKeys ? { hostKeys } : {} });
  try {
    let health;
    try {
      health = await withTimeout(client.health(), timeoutMs, `${router.host}:${router.port}`);
    } catch (err) {
      return [{ status: 'fail', subject, message: describeRouterError(err, router) }];
    }
    const findings: DoctorFinding[] = [
      {
        status: 'ok',
        subject,
        message: `${router.transport} login as "${router.username}" at ${router.host}:${router.port} works; RouterOS ${health.version}, identity "${health.identity}"`,
      },
    ];
    if (versionBelow(health.version, MIN_VERSION)) {
      findings.push({
        status: 'fail',
        subject,
        message: `RouterOS ${health.version} is too old: Mtandao needs ${MIN_VERSION.join('.')} or later; upgrade the router`,
      });
    } else if (router.transport === 'ssh' && versionBelow(health.version, [7, 13])) {
      findings.push({
        status: 'warn',
        subject,
        message: `RouterOS ${health.version} has no :serialize (7.13+): over SSH the agent reads "print terse", slower; prefer the api transport`,
      });
    }
    const before = Date.now();
    const clock = await withTimeout(client.print('/system/clock'), timeoutMs, 'the router clock').catch(() => undefined);
    const at = clock?.[0] ? parseRouterClock(clock[0]) : undefined;
    if (at === undefined) {
      findings.push({ status: 'warn', subject, message: "could not read the router's clock (/system/clock)" });
    } else {
      const skew = at + 500 - (before + Date.now()) / 2;
      const words = `the router's clock is ${aheadOrBehind(skew)} this machine`;
      if (Math.abs(skew) > ROUTER_SKEW_FAIL_MS)
        findings.push({ status: 'fail', subject, message: `${words}: its logs and session times will not match; enable /system/ntp/client on the router` });
      else findings.push({ status: 'ok', subject, message: `clock within ${formatSpan(Math.max(1000, Math.abs(skew)))} of this machine` });
    }
    return findings;
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** Runs every check; the controller's and the routers' at once. */
export async function runDoctor(options: DoctorOptions): Promise<DoctorFinding[]> {
  const { config, identity } = options;
  const timeoutMs = options.timeoutMs ?? 5000;
  const findings: DoctorFinding[] = [];
  if (identity)
    findings.push({
      status: 'ok',
      subject: 'enrolment',
      message: `agent ${identity.identity.agentId} of site "${identity.identity.siteName}", enrolled ${identity.identity.enrolledAt}`,
    });
  else
    findings.push({
      status: 'fail',
      subject: 'enrolment',
      message: `${options.stateDir} holds no agent identity: run mtandao-agent enroll --controller URL --token TOKEN (the token is on the site's page in the dashboard)`,
    });
  if (config.routers.length === 0)
    findings.push({ status: 'warn', subject: 'config', message: 'no routers configured: the agent will connect but has nothing to manage' });
  const hostKeys = identity ? await HostKeyStore.open(options.stateDir) : undefined;
  const bases = controllerBases(config, identity);
  const [controllers, routers] = await Promise.all([
    Promise.all(
      bases.map(async (base) => {
        const http = await checkControllerHttp(base, options);
        // an instance that cannot be reached is one finding, not two
        const reached = !http.some((f) => f.message.startsWith('cannot reach it'));
        return [...http, ...(identity && reached ? [await checkIdentityAccepted(base, identity, timeoutMs)] : [])];
      }),
    ),
    Promise.all(config.routers.map((r) => checkRouter(r, hostKeys, timeoutMs))),
  ]);
  return [...findings, ...controllers.flat(), ...routers.flat()];
}

/** The report as printed: one line per finding, then a verdict. */
export function formatFindings(findings: readonly DoctorFinding[]): string {
  const label = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const;
  const width = Math.max(...findings.map((f) => f.subject.length));
  const failed = findings.filter((f) => f.status === 'fail').length;
  const warned = findings.filter((f) => f.status === 'warn').length;
  const verdict = failed
    ? `${failed} problem${failed > 1 ? 's' : ''} found${warned ? `, ${warned} warning${warned > 1 ? 's' : ''}` : ''}.`
    : `all good${warned ? ` (${warned} warning${warned > 1 ? 's' : ''})` : ''}.`;
  return `${findings.map((f) => `  ${label[f.status]}  ${f.subject.padEnd(width)}  ${f.message}`).join('\n')}\n${verdict}\n`;
}
