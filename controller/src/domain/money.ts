/** Parses a decimal amount of the major unit ("1500", "1500.5", "1,500.00") into integer minor units. */
export function parseAmount(input: string | number): bigint | undefined {
  const text = typeof input === 'number' ? (Number.isFinite(input) ? input.toFixed(2) : '') : input.trim().replaceAll(',', '');
  const m = /^(\d{1,13})(?:\.(\d{1,2}))?$/.exec(text);
  if (!m) return undefined;
  return BigInt(m[1]!) * 100n + BigInt((m[2] ?? '').padEnd(2, '0'));
}

/** Formats minor units as the API's decimal string ("1500.00"). */
export function formatAmount(minor: bigint | string | number): string {
  const v = BigInt(minor);
  const neg = v < 0n;
  const abs = neg ? -v : v;
  return `${neg ? '-' : ''}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}

/** Formats minor units for people: "KES 1,500.00". */
export function displayAmount(minor: bigint | string | number, currency: string): string {
  const [whole, cents] = formatAmount(minor).split('.');
  return `${currency} ${whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${cents}`;
}
