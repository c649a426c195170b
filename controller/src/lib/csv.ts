// CSV for spreadsheets (RFC 4180), safe against formula injection: a cell a spreadsheet would run
// as a formula (=, +, -, @, tab, carriage return first) is prefixed with a quote (OWASP), except a
// plain signed number such as a negative balance, which stays a number.
const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^-?\d+(\.\d+)?$/;

/** One cell, neutralised and quoted when it needs to be. */
export function csvCell(value: string | number | bigint | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (FORMULA_START.test(text) && !PLAIN_NUMBER.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A whole CSV document: a header row, then one line per row, CRLF line ends. */
export function toCsv(header: readonly string[], rows: Iterable<readonly (string | number | bigint | boolean | null | undefined)[]>): string {
  const lines = [header.map(csvCell).join(',')];
  for (const row of rows) lines.push(row.map(csvCell).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
