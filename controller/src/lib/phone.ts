import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * Normalises a Kenyan mobile number to 2547XXXXXXXX / 2541XXXXXXXX, accepting 07…, 01…, 7…, 1…,
 * 254… and +254…; anything else (landlines such as 06…, foreign numbers) is undefined.
 */
export function normaliseKenyanMobile(input: string): string | undefined {
  const compact = input.replace(/[\s().-]/g, '');
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
