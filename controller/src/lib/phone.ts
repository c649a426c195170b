import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * A well-formed Kenyan mobile number written 07…/01…, 7…/1…, 254… or +254…: group 1 is the national
 * number. The ranges are libphonenumber's own for KE MOBILE (metadata 1.13, `type('MOBILE')`, 9 digits;
 * no KE fixed-line range starts with 1 or 7), so what this matches the library answers the same way;
 * `test/phone.test.ts` compares the two on every prefix and many other inputs.
 */
const KENYAN_MOBILE = /^(?:0|\+?254)?((?:1(?:0[0-8]|[18]\d|2[014]|3[05-9]|4[0-6])|7\d\d)\d{6})$/;
const SEPARATORS = /[\s().-]/g;

/**
 * Normalises a Kenyan mobile number to 2547XXXXXXXX / 2541XXXXXXXX, accepting 07…, 01…, 7…, 1…,
 * 254… and +254…; anything else (landlines such as 06…, foreign numbers) is undefined.
 */
export function normaliseKenyanMobile(input: string): string | undefined {
  const compact = input.replace(SEPARATORS, '');
  // the common case without the library (3–4 % of the controller's CPU on a burst of adds)
  const fast = KENYAN_MOBILE.exec(compact);
  if (fast) return `254${fast[1]!}`;
  return viaLibrary(compact);
}

/** libphonenumber's answer for a compact input (exported for the test comparing it with the fast path). */
export function viaLibrary(compact: string): string | undefined {
  if (!/^\+?\d{9,13}$/.test(compact)) return undefined;
  const candidate = compact.startsWith('254') ? `+${compact}` : compact;
  const parsed = parsePhoneNumberFromString(candidate, 'KE');
  if (!parsed || parsed.country !== 'KE' || !parsed.isValid()) return undefined;
  const type = parsed.getType();
  if (type !== 'MOBILE' && type !== 'FIXED_LINE_OR_MOBILE') return undefined;
  const national = parsed.nationalNumber;
  if (!/^[17]\d{8}$/.test(national)) return undefined;
  return `254${national}`;
}
