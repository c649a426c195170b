import { parse } from 'csv-parse/sync';
import { AppError } from '../errors.ts';

/** The largest import file accepted (50 000 rows of a migrated customer list fit in well under it). */
export const MAX_IMPORT_BYTES = 16 * 1024 * 1024;
/** The most customer rows one file may hold: more is refused whole (split the file). */
export const MAX_IMPORT_ROWS = 50_000;
/** The longest cell accepted (a name, an email…); longer means the file is not what it seems. */
const MAX_CELL = 1000;

const refuse = (message: string): AppError => new AppError(422, message, { field: 'file', issues: [{ field: 'file', message }] });

/** A file taken from an upload: its bytes and the name the browser gave it. */
export interface UploadedFile {
  name: string | null;
  bytes: Buffer;
}

/**
 * The file of an upload: the body itself (text/csv and friends) or the first file part of a
 * multipart form (the browser's Choose File), read by the platform's own form parser.
 */
export async function fileFromUpload(contentType: string | undefined, body: Buffer | undefined): Promise<UploadedFile> {
  if (!body || body.length === 0) throw refuse('Choose a CSV file to import: the request has no file');
  if (contentType && /^multipart\/form-data/i.test(contentType)) {
    let form: FormData;
    try {
      form = await new Request('http://upload.invalid/', { method: 'POST', headers: { 'content-type': contentType }, body: Uint8Array.from(body) }).formData();
    } catch {
      throw refuse('The upload is not a valid multipart form');
    }
    for (const [, value] of form.entries()) {
      if (typeof value !== 'string') return { name: value.name || null, bytes: Buffer.from(await value.arrayBuffer()) };
    }
    throw refuse('Choose a CSV file to import: the form has no file');
  }
  return { name: null, bytes: body };
}

/** The text of a CSV file, or a clear refusal when it is not one (a workbook, an image, another encoding). */
export function csvText(bytes: Buffer): string {
  if (bytes.length > MAX_IMPORT_BYTES)
    throw refuse(
      `The file is too large (${(bytes.length / 1024 / 1024).toFixed(1)} MB): at most ${MAX_IMPORT_BYTES / 1024 / 1024} MB and ${MAX_IMPORT_ROWS.toLocaleString('en')} rows; split it`,
    );
  if (bytes.subarray(0, 4).equals(Buffer.from('PK\u0003\u0004', 'latin1')))
    throw refuse('This is an Excel workbook (or another zip file), not a CSV: in Excel use File → Save As → CSV UTF-8');
  if (bytes.subarray(0, 8).equals(Buffer.from('d0cf11e0a1b11ae1', 'hex')))
    throw refuse('This is an old Excel workbook, not a CSV: in Excel use File → Save As → CSV UTF-8');
  if (bytes.includes(0)) throw refuse('This is a binary file, not a CSV text file');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // Excel's "CSV (Comma delimited)" writes Windows-1252: accept it rather than refuse the ISP's file
    text = new TextDecoder('windows-1252').decode(bytes);
  }
  if (/[\u0001-\u0008\u000e-\u001f]/.test(text)) throw refuse('This is a binary file, not a CSV text file');
  return text;
}

/** A parsed file: its header cells and its data rows (1-based row numbers, below the header). */
export interface CsvTable {
  header: string[];
  rows: { row: number; cells: string[] }[];
}

/**
 * Parses CSV as spreadsheets write it: a UTF-8 byte-order mark, CRLF or LF, quoted cells with
 * commas, quotes and line breaks inside, and Excel's semicolons where the decimal comma is local.
 */
export function parseCsv(text: string): CsvTable {
  const firstLine = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  const delimiter = !firstLine.includes(',') && firstLine.includes(';') ? ';' : ',';
  let records: string[][];
  try {
    records = parse(text, {
      bom: true,
      delimiter,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      max_record_size: 64 * 1024,
    }) as string[][];
  } catch (err) {
    const e = err as { message?: string; lines?: number };
    throw refuse(`The file is not valid CSV${e.lines ? ` (near line ${e.lines})` : ''}: ${(e.message ?? '').replace(/^Invalid .*?: /, '').slice(0, 200)}`);
  }
  // a row of nothing but empty cells (a spreadsheet's trailing blank lines) is no customer
  records = records.filter((r, i) => i === 0 || r.some((c) => c.trim() !== ''));
  if (records.length === 0) throw refuse('The file is empty: it needs the header row of the template');
  if (records.length - 1 > MAX_IMPORT_ROWS)
    throw refuse(`The file has ${(records.length - 1).toLocaleString('en')} rows: at most ${MAX_IMPORT_ROWS.toLocaleString('en')} in one import; split it`);
  if (records.length === 1) throw refuse('The file has no customer rows below its header');
  const header = records[0]!.map((h) => h.trim());
  const rows = records.slice(1).map((cells, i) => ({ row: i + 1, cells }));
  for (const r of rows) {
    if (r.cells.some((c) => c.length > MAX_CELL)) throw refuse(`Row ${r.row} has a cell longer than ${MAX_CELL} characters: is this the right file?`);
  }
  return { header, rows };
}

/** Checks the header against the template: every required column present once, nothing unknown. */
export function checkHeader(header: string[], required: readonly string[], optional: readonly string[]): void {
  const expected = `the headers must be exactly: ${required.join(', ')}`;
  const seen = new Set<string>();
  for (const h of header) {
    if (!required.includes(h) && !optional.includes(h))
      throw headerError(h === '' ? `A column has no header: ${expected}` : `Unknown column "${h}": ${expected}`, h);
    if (seen.has(h)) throw headerError(`Column "${h}" appears twice`, h);
    seen.add(h);
  }
  const missing = required.filter((h) => !seen.has(h));
  if (missing.length > 0)
    throw headerError(`Missing column "${missing[0]}"${missing.length > 1 ? ` (and ${missing.slice(1).join(', ')})` : ''}: ${expected}`, missing[0]!);
}

function headerError(message: string, header: string): AppError {
  return new AppError(422, message, { field: 'header', issues: [{ field: `header.${header || '(blank)'}`, message }] });
}
