import { randomInt } from 'node:crypto';

// No 0/O, 1/l/I: staff read these passwords out to customers over the phone.
const ALPHABET = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A readable random password for a new customer (10 characters, about 58 bits). */
export function generatePassword(length = 10): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}
