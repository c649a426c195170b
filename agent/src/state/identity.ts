import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import { loadPrivateKey, loadPublicKey } from '@mtandao/protocol/signing';
import { isWorldOrGroupReadable, writeFileAtomic } from './files.ts';

/** File names inside the state directory. */
export const STATE_FILES = {
  identity: 'identity.json',
  privateKey: 'agent.key',
  journal: 'journal.log',
} as const;

/** Who this agent is, as the controller answered its enrolment. Public data only. */
export const AgentIdentity = z
  .object({
    agentId: z.string().min(1).max(64),
    siteId: z.string().min(1),
    siteName: z.string(),
    controllerUrl: z.url(),
    /** Every controller base URL given at enrolment (failover), `controllerUrl` among them. */
    controllerUrls: z.array(z.url()).optional(),
    websocketUrl: z.url(),
    controllerPublicKey: z.string().min(40),
    publicKey: z.string().min(40),
    hostname: z.string().optional(),
    enrolledAt: z.iso.datetime(),
  })
  .strict();
/** The stored identity. */
export type AgentIdentity = z.infer<typeof AgentIdentity>;

/** The identity with its keys loaded, ready to sign and verify. */
export interface LoadedIdentity {
  identity: AgentIdentity;
  privateKey: KeyObject;
  controllerKey: KeyObject;
  /** Set when the key file is readable by group or others (the runner warns). */
  keyFileTooOpen: boolean;
}

/** The state directory holds no identity: `mtandao-agent enroll` has not run there. */
export class NotEnrolledError extends Error {
  constructor(stateDir: string) {
    super(`no agent identity in ${stateDir}: run \`mtandao-agent enroll --controller URL --token T\` first`);
    this.name = 'NotEnrolledError';
  }
}

/** Writes the private key (PKCS#8 PEM), 0600, atomically. */
export const savePrivateKey = (stateDir: string, pem: string): Promise<void> => writeFileAtomic(join(stateDir, STATE_FILES.privateKey), pem);

/** Writes the identity file, 0600, atomically. */
export const saveIdentity = (stateDir: string, identity: AgentIdentity): Promise<void> =>
  writeFileAtomic(join(stateDir, STATE_FILES.identity), `${JSON.stringify(AgentIdentity.parse(identity), null, 2)}\n`);

/** Reads the identity file, or undefined when there is none. */
export async function readIdentity(stateDir: string): Promise<AgentIdentity | undefined> {
  let text: string;
  try {
    text = await readFile(join(stateDir, STATE_FILES.identity), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`reading agent identity from ${stateDir}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = AgentIdentity.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new Error(`agent identity in ${stateDir} is damaged: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** Loads the identity and both keys; throws NotEnrolledError when the directory was never enrolled. */
export async function loadIdentity(stateDir: string): Promise<LoadedIdentity> {
  const identity = await readIdentity(stateDir);
  if (!identity) throw new NotEnrolledError(stateDir);
  const keyPath = join(stateDir, STATE_FILES.privateKey);
  let privateKey: KeyObject;
  try {
    privateKey = loadPrivateKey(await readFile(keyPath, 'utf8'));
  } catch (err) {
    throw new Error(`loading the agent's private key from ${keyPath}: ${(err as Error).message}`, { cause: err });
  }
  return { identity, privateKey, controllerKey: loadPublicKey(identity.controllerPublicKey), keyFileTooOpen: await isWorldOrGroupReadable(keyPath) };
}
