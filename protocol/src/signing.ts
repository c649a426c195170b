import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalize } from './canonical.ts';

/** Domain separation so a command signature can never pass as an agent message signature. */
const COMMAND_CONTEXT = 'mtandao-command-v1\n';
const AGENT_CONTEXT = 'mtandao-agent-msg-v1\n';
/** A batch's signature covers its envelopes together; its own context keeps it from passing as one envelope's, or the reverse. */
const BATCH_CONTEXT = 'mtandao-commands-v1\n';

/** An Ed25519 key pair as PEM strings (PKCS#8 private, SPKI public). */
export interface KeyPairPem {
  publicKey: string;
  privateKey: string;
}

/** Makes a new Ed25519 key pair. */
export function generateSigningKeys(): KeyPairPem {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** Loads a PEM private key, refusing anything but Ed25519. */
export function loadPrivateKey(pem: string): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('expected an Ed25519 private key');
  return key;
}

/** Loads a PEM public key, refusing anything but Ed25519. */
export function loadPublicKey(pem: string): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('expected an Ed25519 public key');
  return key;
}

function signBytes(context: string, value: unknown, key: KeyObject): string {
  return sign(null, Buffer.from(context + canonicalize(value)), key).toString('base64');
}

function verifyBytes(context: string, value: unknown, sig: string, key: KeyObject): boolean {
  let bytes: string;
  try {
    bytes = context + canonicalize(value);
  } catch {
    return false;
  }
  const signature = Buffer.from(sig, 'base64');
  if (signature.length !== 64) return false;
  return verify(null, Buffer.from(bytes), key, signature);
}

/** Signs a command envelope over its canonical bytes. */
export const signEnvelope = (envelope: unknown, key: KeyObject): string => signBytes(COMMAND_CONTEXT, envelope, key);
/**
 * Signs a command envelope given as its canonical text ({@link canonicalize} of it): the caller
 * encodes once and sends the same text it signed.
 */
export const signCanonicalEnvelope = (canonical: string, key: KeyObject): string =>
  sign(null, Buffer.from(COMMAND_CONTEXT + canonical), key).toString('base64');
/** Verifies a command envelope's signature. */
export const verifyEnvelope = (envelope: unknown, sig: string, key: KeyObject): boolean => verifyBytes(COMMAND_CONTEXT, envelope, sig, key);
/** Signs the envelopes of a batch given as their canonical array text ({@link canonicalize} of the array). */
export const signCanonicalBatch = (canonical: string, key: KeyObject): string => sign(null, Buffer.from(BATCH_CONTEXT + canonical), key).toString('base64');
/** Verifies the one signature of a batch's envelopes. */
export const verifyEnvelopeBatch = (envelopes: readonly unknown[], sig: string, key: KeyObject): boolean => verifyBytes(BATCH_CONTEXT, envelopes, sig, key);
/** Signs an agent message over its canonical bytes. */
export const signAgentMessage = (msg: unknown, key: KeyObject): string => signBytes(AGENT_CONTEXT, msg, key);
/** Verifies an agent message's signature. */
export const verifyAgentMessage = (msg: unknown, sig: string, key: KeyObject): boolean => verifyBytes(AGENT_CONTEXT, msg, sig, key);

/** Signs raw text (the upgrade challenge). */
export const signText = (text: string, key: KeyObject): string => sign(null, Buffer.from(text), key).toString('base64');
/** Verifies a signature over raw text. */
export function verifyText(text: string, sig: string, key: KeyObject): boolean {
  const signature = Buffer.from(sig, 'base64');
  return signature.length === 64 && verify(null, Buffer.from(text), key, signature);
}
export * from './verify.ts';
export * from './agent-auth.ts';
