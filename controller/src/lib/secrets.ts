import {
  createCipheriv,
  createDecipheriv,
  hash as oneShotHash,
  randomBytes,
  randomFillSync,
  randomInt,
  scrypt as scryptCb,
  timingSafeEqual,
  type ScryptOptions,
} from 'node:crypto';

const scrypt = (password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> =>
  new Promise((resolve, reject) => scryptCb(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));

// OWASP Password Storage Cheat Sheet: scrypt with N=2^17, r=8, p=1.
const SCRYPT = { r: 8, p: 1, keylen: 32 };
const SCRYPT_MAXMEM = 256 * 1024 * 1024;
/** log2 of scrypt's N for new hashes; OWASP's 17 unless lowered for a test run. */
export const PASSWORD_HASH_COST = 17;

/** Hashes a staff password: `scrypt$N$r$p$salt$hash` (the hash carries its cost, so any cost verifies). */
export async function hashPassword(password: string, cost = PASSWORD_HASH_COST): Promise<string> {
  const salt = randomBytes(16);
  const N = 2 ** cost;
  const key = await scrypt(password, salt, SCRYPT.keylen, { N, r: SCRYPT.r, p: SCRYPT.p, maxmem: SCRYPT_MAXMEM });
  return ['scrypt', N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** Checks a staff password against its stored hash in constant time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, salt, hash] = stored.split('$');
  if (alg !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: SCRYPT_MAXMEM });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash that lets us burn the same time for an unknown user as for a wrong password (one per cost). */
const dummyHashes = new Map<number, Promise<string>>();
export function dummyPasswordHash(cost = PASSWORD_HASH_COST): Promise<string> {
  let hash = dummyHashes.get(cost);
  if (!hash) dummyHashes.set(cost, (hash = hashPassword(randomBytes(16).toString('hex'), cost)));
  return hash;
}

/**
 * SHA-256 of a bearer secret (session ids, API and enrolment tokens are stored only hashed). The
 * one-shot `crypto.hash` (Node 20.12) makes no Hash object: this runs on every signed-in request.
 */
export const sha256 = (value: string): string => oneShotHash('sha256', value, 'base64url');

// IVs are cut from a pool of CSPRNG bytes: `randomBytes(12)` per encryption made a job and a
// buffer each time. Each 12 bytes are handed out once; the pool is refilled when used up.
const IV_BYTES = 12;
const ivPool = Buffer.alloc(IV_BYTES * 341);
let ivAt = ivPool.length;
/** 12 fresh random bytes for one AES-GCM encryption (a copy: the pool is overwritten later). */
export function freshIv(): Buffer {
  if (ivAt + IV_BYTES > ivPool.length) {
    randomFillSync(ivPool);
    ivAt = 0;
  }
  const iv = Buffer.from(ivPool.subarray(ivAt, ivAt + IV_BYTES));
  ivAt += IV_BYTES;
  return iv;
}

/** A random URL-safe token with a readable prefix. */
export const randomToken = (prefix: string, bytes = 32): string => `${prefix}${randomBytes(bytes).toString('base64url')}`;

/**
 * AES-256-GCM for customer passwords. The row is bound as associated data, so a ciphertext copied
 * onto another customer's row does not decrypt.
 */
export class SecretBox {
  readonly #key: Buffer;
  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('the secret key must be 32 bytes');
    this.#key = key;
  }
  encrypt(plaintext: string, associatedData: string): string {
    const iv = freshIv();
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(associatedData));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `v1:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }
  decrypt(stored: string, associatedData: string): string {
    if (!stored.startsWith('v1:')) throw new Error('unknown ciphertext version');
    const raw = Buffer.from(stored.slice(3), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(associatedData));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }
}

// No 0/O, 1/l/I: passwords get read out over the phone and typed on a router login page.
const READABLE = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
/** A readable generated password. */
export function readablePassword(length = 10): string {
  let out = '';
  for (let i = 0; i < length; i++) out += READABLE[randomInt(READABLE.length)];
  return out;
}
