/** The element id of a form field: `payment.method` → `payment-method`; a prefix keeps two forms of one page apart. */
export const fieldId = (name: string, prefix?: string): string => `${prefix ? `${prefix}-` : ''}${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;

/** The attributes that tie an input to its label, its hint and its error message. */
export function fieldAttrs(name: string, error: string | undefined, hint?: boolean, prefix?: string) {
  const id = fieldId(name, prefix);
  const describedBy = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return { id, name, 'aria-invalid': error ? ('true' as const) : undefined, 'aria-describedby': describedBy || undefined };
}
