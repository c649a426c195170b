import { unlink } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { EnrollRequest, EnrollResponse } from '@mtandao/protocol';
import { generateSigningKeys, loadPublicKey } from '@mtandao/protocol/signing';
import { ensureStateDir } from '../state/files.ts';
import { readIdentity, saveIdentity, savePrivateKey, STATE_FILES, type AgentIdentity } from '../state/identity.ts';
import { AGENT_VERSION } from '../version.ts';

/** What went wrong enrolling; the CLI maps each kind to an exit code. */
export type EnrollErrorKind = 'usage' | 'already-enrolled' | 'refused' | 'unreachable' | 'bad-response';

/** An enrolment failure with a message fit for the installer (never the token or the key). */
export class EnrollError extends Error {
  readonly kind: EnrollErrorKind;
  readonly status: number | undefined;
  constructor(kind: EnrollErrorKind, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'EnrollError';
    this.kind = kind;
    this.status = options.status;
  }
}

/** Input of an enrolment. */
export interface EnrollOptions {
  /**
   * Base URL of the controller, e.g. `https://isp.example/` or `http://127.0.0.1:8080`; several
   * (instances of one controller) are tried in order and all kept for failover.
   */
  controllerUrl: string | readonly string[];
  /** The one-time enrolment token. */
  token: string;
  stateDir: string;
  hostname?: string;
  /** Enrol again over an existing identity (a new agent id; the old journal is dropped). */
  force?: boolean;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

function parseControllerUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new EnrollError('usage', `--controller: "${text}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new EnrollError('usage', `--controller: expected an http:// or https:// URL, got ${url.protocol}`);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

/** The controller may answer an absolute or a relative WebSocket URL; either way make it ws(s). */
function resolveWebsocketUrl(answer: string, base: URL): string {
  const url = new URL(answer, base);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:')
    throw new EnrollError('bad-response', `the controller answered a websocketUrl that is not ws(s): ${answer}`);
  return url.toString();
}

/** Words for a fetch failure: the cause's code and text when there is one ("connect ECONNREFUSED 127.0.0.1:8080"). */
function describeNetworkError(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'no answer in time';
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error) return cause.message;
  return err instanceof Error ? err.message : String(err);
}

async function errorMessageOf(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } };
    if (typeof body.error?.message === 'string') return body.error.message;
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.trim().slice(0, 300) || response.statusText;
}

/**
 * Enrols this agent (SPEC section 6): makes an Ed25519 key pair, keeps the private key 0600 in the
 * state directory, trades the one-time token and the public key for an identity at
 * `POST /api/v1/agents/enroll`, and stores that identity. Used by `mtandao-agent enroll` and the demo.
 */
export async function enrollAgent(options: EnrollOptions): Promise<AgentIdentity> {
  const bases = (typeof options.controllerUrl === 'string' ? [options.controllerUrl] : [...options.controllerUrl]).map(parseControllerUrl);
  if (bases.length === 0) throw new EnrollError('usage', 'enroll needs --controller URL');
  const hostname = (options.hostname ?? osHostname()).slice(0, 255);
  const keys = generateSigningKeys();
  const request = EnrollRequest.safeParse({ token: options.token, publicKey: keys.publicKey, hostname, agentVersion: AGENT_VERSION });
  if (!request.success) {
    const bad = request.error.issues.map((i) => i.path.join('.'));
    throw new EnrollError('usage', bad.includes('token') ? '--token: an enrolment token is 10 to 200 characters' : `bad enrolment request: ${bad.join(', ')}`);
  }

  await ensureStateDir(options.stateDir);
  const existing = await readIdentity(options.stateDir);
  if (existing && !options.force) {
    throw new EnrollError(
      'already-enrolled',
      `${options.stateDir} already holds agent ${existing.agentId} (site ${existing.siteName}); pass --force to enrol again`,
    );
  }
  await savePrivateKey(options.stateDir, keys.privateKey);

  // the first controller that answers takes the token (an instance that is down is skipped)
  let response: Response | undefined;
  let base = bases[0]!;
  const unreachable: string[] = [];
  for (const candidate of bases) {
    const endpoint = new URL('api/v1/agents/enroll', candidate);
    try {
      response = await (options.fetch ?? fetch)(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(request.data),
        signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
      });
      base = candidate;
      break;
    } catch (err) {
      unreachable.push(`cannot reach the controller at ${endpoint.origin}: ${describeNetworkError(err)}`);
      if (unreachable.length === bases.length) throw new EnrollError('unreachable', unreachable.join('; '), { cause: err });
    }
  }
  if (!response) throw new EnrollError('unreachable', unreachable.join('; '));
  if (!response.ok) {
    const message = await errorMessageOf(response);
    const kind = response.status < 500 ? 'refused' : 'unreachable';
    const what = kind === 'refused' ? 'the controller refused the enrolment' : 'the controller failed';
    throw new EnrollError(kind, `${what} (HTTP ${response.status}): ${message}`, { status: response.status });
  }

  let answer: EnrollResponse;
  try {
    answer = EnrollResponse.parse(await response.json());
    loadPublicKey(answer.controllerPublicKey);
  } catch (err) {
    throw new EnrollError('bad-response', `the controller's enrolment answer is not usable: ${(err as Error).message}`, { cause: err });
  }
  const identity: AgentIdentity = {
    agentId: answer.agentId,
    siteId: answer.siteId,
    siteName: answer.siteName,
    controllerUrl: base.toString(),
    ...(bases.length > 1 ? { controllerUrls: bases.map((b) => b.toString()) } : {}),
    websocketUrl: resolveWebsocketUrl(answer.websocketUrl, base),
    controllerPublicKey: answer.controllerPublicKey,
    publicKey: keys.publicKey,
    hostname,
    enrolledAt: new Date().toISOString(),
  };
  // A new identity starts a new command sequence: the old journal's lastSeq would refuse it all.
  await unlink(join(options.stateDir, STATE_FILES.journal)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  await saveIdentity(options.stateDir, identity);
  return identity;
}
