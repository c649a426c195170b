import { randomInt } from 'node:crypto';

/** Voucher alphabets without look-alikes: no 0/O, 1/I/L (and no lower case to confuse with them). */
export const VOUCHER_ALPHABETS = {
  digits: '23456789',
  letters: 'ABCDEFGHJKMNPQRSTUVWXYZ',
  mixed: '23456789ABCDEFGHJKMNPQRSTUVWXYZ',
} as const;

/** Which alphabet a batch draws from. */
export type VoucherCharset = keyof typeof VOUCHER_ALPHABETS;

/** One code from the CSPRNG: the prefix, then `length` characters of the alphabet. */
export function voucherCode(prefix: string, length: number, charset: VoucherCharset): string {
  const alphabet = VOUCHER_ALPHABETS[charset];
  let out = prefix;
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** How many codes an alphabet and length can make. */
export const codeSpace = (length: number, charset: VoucherCharset): number => VOUCHER_ALPHABETS[charset].length ** length;

/**
 * Whether a batch is too dense to be safe: with more than one code live per million possible, a
 * guesser's odds stop being hopeless (and random draws start colliding).
 */
export const tooDense = (count: number, length: number, charset: VoucherCharset): boolean => count * 1_000_000 > codeSpace(length, charset);

/** A code as typed on a phone: spaces and dashes dropped, upper case. */
export const normaliseCode = (typed: string): string => typed.replace(/[\s-]+/g, '').toUpperCase();
