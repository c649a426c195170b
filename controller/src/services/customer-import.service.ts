import { IMPORT_COLUMNS, IMPORT_OPTIONAL_COLUMNS, type ImportColumn, type ImportDryRun, type ImportStatusView } from '@mtandao/protocol/api';
import { AppError, notFound } from '../errors.ts';
import { FileResult, type RequestMeta } from '../http/route.ts';
import { checkHeader, csvText, parseCsv, type UploadedFile } from '../lib/csv-file.ts';
import { toCsv } from '../lib/csv.ts';
import type { SecretBox } from '../lib/secrets.ts';
import { addValidity } from '../domain/validity.ts';
import { afterCommit } from '../db/database.ts';
import { outsideTransaction } from '../db/sequelize.ts';
import type { Logger } from '../logger.ts';
import type { ImportedCustomer, ImportPlanRow, ImportRow, ImportsRepository, StoredImportRow } from '../repositories/imports.repository.ts';
import type { AuditService } from './audit.service.ts';
import { passwordAad } from './customers.service.ts';
import { AddressAllocator } from './import-addresses.ts';
import { checkRow, FileClaims, type Cells, type ImportContext } from './import-rows.ts';
import type { ProvisioningService } from './provisioning.service.ts';

/** Rows shown in a dry run's preview. */
const PREVIEW_ROWS = 10;
/** Row problems listed in a dry run's answer (the failures CSV has them all). */
const MAX_LISTED_ERRORS = 1000;
/** Customers written per statement at commit. */
const BATCH = 1000;
/** An import whose controller showed no sign of life for this long is taken over by another (or the restarted one). */
const STALE_SECONDS = 60;
/** How often a controller looks for such imports. */
const ADOPT_EVERY_MS = 30_000;

const rowAad = (importId: string, rowNo: number) => `mtandao:import:${importId}:row:${rowNo}:password`;
const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);
// Our own exports neutralise formula-looking cells with a leading apostrophe (lib/csv.ts): undo
// exactly that on the way in, so an exported password such as "-x9" comes back as it was.
const unNeutralise = (cell: string) => (/^'[=+\-@\t\r]/.test(cell) ? cell.slice(1) : cell);

/**
 * Import Customers (help/import-customers.md, SPEC section 13): a dry run that checks every row
 * and keeps the file, then a commit that writes the good rows in batches in the background.
 * Re-importing a file creates nothing twice: a row whose username exists is refused with
 * "Username already exists" and lands in the failures file.
 */
export class CustomerImportService {
  constructor(
    private readonly repo: ImportsRepository,
    private readonly provisioning: ProvisioningService,
    private readonly audit: AuditService,
    private readonly secretBox: SecretBox,
    private readonly logger: Logger,
    private readonly timezone: string,
  ) {}

  /** The template: the header row the import expects. */
  template(): FileResult {
    return new FileResult(toCsv(IMPORT_COLUMNS, []), 'text/csv; charset=utf-8', 'customers-import-template.csv');
  }

  /** Checks a file row by row and keeps it for the commit; nothing is created yet. */
  async dryRun(meta: RequestMeta, file: UploadedFile): Promise<ImportDryRun> {
    const table = parseCsv(csvText(file.bytes));
    checkHeader(table.header, IMPORT_COLUMNS, IMPORT_OPTIONAL_COLUMNS);
    const columns = table.header as ImportColumn[];
    const rows = table.rows.map((r) => ({
      row: r.row,
      width: r.cells.length,
      cells: Object.fromEntries(columns.map((c, i) => [c, unNeutralise(r.cells[i] ?? '')])) as Cells,
    }));

    const ctx = await this.context(rows.map((r) => r.cells));
    const claims = new FileClaims();
    const id = await this.repo.nextId();
    const stored: StoredImportRow[] = [];
    const errors: ImportDryRun['errors'] = [];
    let valid = 0;
    for (const r of rows) {
      let problems =
        r.width === columns.length
          ? checkRow(r.cells, ctx, claims).problems
          : [{ field: 'row', message: `Row has ${r.width} cells; the header has ${columns.length}` }];
      if (problems.length === 0) valid++;
      else for (const p of problems) errors.push({ row: r.row, ...p });
      problems = problems.map(({ field, message }) => ({ field, message }));
      const { password = '', ...cells } = r.cells;
      stored.push({
        row_no: r.row,
        cells: cells as Record<string, string>,
        password_enc: password ? this.secretBox.encrypt(password, rowAad(id, r.row)) : null,
        status: problems.length === 0 ? 'valid' : 'invalid',
        errors: problems,
      });
    }
    await this.repo.create(id, { filename: file.name, userId: meta.actor.userId, rows: rows.length, valid, invalid: rows.length - valid }, stored);
    await this.audit.record(meta, 'import.upload', 'import', id, { filename: file.name, rows: rows.length, valid, invalid: rows.length - valid });
    return {
      id,
      rows: rows.length,
      valid,
      invalid: rows.length - valid,
      preview: stored.slice(0, PREVIEW_ROWS).map((s) => ({ row: s.row_no, cells: { ...s.cells, password: s.password_enc ? '••••••' : '' }, errors: s.errors })),
      errors: errors.slice(0, MAX_LISTED_ERRORS),
      errorsTruncated: errors.length > MAX_LISTED_ERRORS,
    };
  }

  /** Starts writing the good rows of a dry run; answers at once (poll {@link status}). */
  async commit(meta: RequestMeta, id: string): Promise<ImportStatusView> {
    const found = await this.repo.get(id);
    if (!found) throw notFound('Import');
    if (found.status !== 'preview' || !(await this.repo.claim(id)))
      throw new AppError(409, found.status === 'preview' ? 'This import is already running' : `This import was already committed (${found.status})`);
    await this.audit.record(meta, 'import.commit', 'import', id, { filename: found.filename, rows: found.rows, valid: found.valid, invalid: found.invalid });
    // the work starts once this request's transaction (the claim) commits, outside it
    afterCommit(() => outsideTransaction(() => this.begin(meta, id)));
    return this.status(id);
  }

  /** Imports running on this instance (tests and shutdown wait on them). */
  readonly running = new Map<string, Promise<void>>();
  private adoptTimer?: NodeJS.Timeout;

  /** Looks now and every half minute for imports a stopped controller left unfinished, and finishes them. */
  start(): void {
    const look = () => {
      void this.adoptStale()
        .catch((err: unknown) => this.logger.warn({ err }, 'could not look for unfinished imports; will retry'))
        .finally(() => {
          if (this.adoptTimer) this.adoptTimer = setTimeout(look, ADOPT_EVERY_MS).unref();
        });
    };
    this.adoptTimer = setTimeout(look, 0).unref();
  }

  stop(): void {
    clearTimeout(this.adoptTimer);
    this.adoptTimer = undefined;
  }

  /**
   * Resumes the imports whose controller stopped mid-way (a crash, a restart): the rows it wrote
   * are marked, so the rest is written once, under the name of the staff member who committed it.
   */
  async adoptStale(staleSeconds = STALE_SECONDS): Promise<string[]> {
    const adopted = await this.repo.adoptStale(staleSeconds);
    for (const a of adopted) {
      this.logger.warn({ importId: a.id }, 'resuming an import its controller left unfinished');
      const meta: RequestMeta = {
        actor: { userId: a.user_id ?? '', username: a.username ?? 'system', role: (a.role ?? 'admin') as RequestMeta['actor']['role'], via: 'session' },
        requestId: `import-${a.id}-resumed`,
        ip: undefined,
      };
      this.begin(meta, a.id);
    }
    return adopted.map((a) => a.id);
  }

  /** Runs an import in the background; an internal error marks it failed, saying where its rows are. */
  private begin(meta: RequestMeta, id: string): void {
    const started = this.run(meta, id).catch(async (err: unknown) => {
      this.logger.error({ err, importId: id }, 'import failed');
      await this.repo.finish(id, 'failed', 'The import stopped on an internal error; the rows not yet written are in the failures file').catch(() => undefined);
    });
    this.running.set(id, started);
    void started.finally(() => this.running.delete(id));
  }

  async status(id: string): Promise<ImportStatusView> {
    const r = await this.repo.get(id);
    if (!r) throw notFound('Import');
    return view(r);
  }

  /** The rows that were not imported, with an `error` column: fix them and import the file again. */
  async failures(id: string): Promise<FileResult> {
    const r = await this.repo.get(id);
    if (!r) throw notFound('Import');
    const rows = await this.repo.failures(id);
    const withExpiry = rows.some((x) => x.cells.expires_at !== undefined);
    const columns: string[] = [...IMPORT_COLUMNS, ...(withExpiry ? ['expires_at'] : []), 'error'];
    const lines = rows.map((x) => {
      const password = x.password_enc ? this.secretBox.decrypt(x.password_enc, rowAad(id, x.row_no)) : '';
      const error = x.errors.map((e) => (e.field === 'row' ? e.message : `${e.field}: ${e.message}`)).join('; ');
      return columns.map((c) => (c === 'password' ? password : c === 'error' ? error : (x.cells[c] ?? '')));
    });
    return new FileResult(toCsv(columns, lines), 'text/csv; charset=utf-8', `import-${id}-failures.csv`);
  }

  /** What the checks need from the database, for every value the rows name. */
  private async context(rows: Cells[], known?: ImportPlanRow[]): Promise<ImportContext> {
    const plans = known ?? (await this.repo.plans());
    const text = (c: ImportColumn) => rows.map((r) => (r[c] ?? '').trim()).filter(Boolean);
    const ips = text('ip_address').filter((v) => /^\d{1,3}(\.\d{1,3}){3}$/.test(v) && v.split('.').every((o) => Number(o) <= 255));
    const taken = await this.repo.taken([...text('username'), ...text('account_number')], [...text('username'), ...text('account_number')], ips);
    return {
      plans: new Map(plans.map((p) => [p.name, p])),
      usernames: taken.usernames,
      accountNumbers: taken.accountNumbers,
      ips: taken.ips,
      timezone: this.timezone,
    };
  }

  /** Writes the valid rows batch by batch, re-checking each against what the database holds now. */
  private async run(meta: RequestMeta, id: string): Promise<void> {
    const allPlans = await this.repo.plans();
    const plans = new Map(allPlans.map((p) => [p.id, p]));
    const addresses = new AddressAllocator((networkIds) => this.repo.usedIps(networkIds));
    addresses.reserve(await this.repo.requestedIps(id));
    const claims = new FileClaims();
    // a resumed import whose committer's account is gone is written in no one's name
    const actor = { userId: meta.actor.userId || null, username: meta.actor.username, requestId: meta.requestId, ip: meta.ip ?? null };
    let after = 0;
    for (;;) {
      const batch = await this.repo.pending(id, after, BATCH);
      if (batch.length === 0) break;
      await this.repo.heartbeat(id);
      after = batch[batch.length - 1]!.row_no;
      const cells = batch.map((b) => ({ ...b.cells, password: b.password_enc ? this.secretBox.decrypt(b.password_enc, rowAad(id, b.row_no)) : '' }) as Cells);
      const ctx = await this.context(cells, allPlans);
      const refused: { rowNo: number; errors: { field: string; message: string }[] }[] = [];
      const ready: (Omit<ImportedCustomer, 'id' | 'passwordEnc'> & { password: string })[] = [];
      const now = new Date();
      for (const [i, b] of batch.entries()) {
        const checked = checkRow(cells[i]!, ctx, claims);
        if (!checked.row) {
          refused.push({ rowNo: b.row_no, errors: checked.problems });
          continue;
        }
        const row = checked.row;
        const plan = plans.get(row.planId) as ImportPlanRow;
        const address = row.address ?? (await addresses.next(plan));
        if (!address) {
          refused.push({ rowNo: b.row_no, errors: [{ field: 'ip_address', message: "No free IP address left in the plan's pools" }] });
          continue;
        }
        if (row.address) addresses.take(row.address.networkId, row.address.ip);
        else claims.ips.add(address.ip);
        const block = plan.blocks.find((x) => x.id === address.networkId)!;
        const expiresAt = row.expiresAt ?? addValidity(now, plan.validity_count, plan.validity_unit);
        ready.push({
          rowNo: b.row_no,
          connectionType: row.connectionType,
          planId: row.planId,
          networkId: address.networkId,
          ip: address.ip,
          routerId: block.router_id,
          fullName: row.fullName,
          phone: row.phone,
          email: row.email,
          username: row.username,
          password: row.password,
          accountNumber: row.accountNumber,
          status: expiresAt > now ? 'active' : 'expired',
          expiresAt,
        });
      }
      const ids = ready.length > 0 ? await this.repo.nextCustomerIds(ready.length) : [];
      const customers: ImportedCustomer[] = ready.map(({ password, ...r }, i) => ({
        ...r,
        id: ids[i]!,
        passwordEnc: this.secretBox.encrypt(password, passwordAad(ids[i]!)),
      }));
      const written = await this.repo.insertBatch(id, customers, refused, actor, this.provisioning.jobExpiry());
      if (written.routers.length > 0) this.provisioning.wakeLocal(written.routers);
    }
    await this.repo.finish(id, 'done', null);
    const done = await this.repo.get(id);
    await this.audit.record(actor.userId ? meta : null, 'import.finish', 'import', id, {
      created: done?.created,
      failed: done?.failed,
      invalid: done?.invalid,
    });
  }
}

function view(r: ImportRow): ImportStatusView {
  return {
    id: String(r.id),
    status: r.status,
    filename: r.filename,
    rows: r.rows,
    valid: r.valid,
    invalid: r.invalid,
    processed: r.processed,
    created: r.created,
    failed: r.failed,
    error: r.error,
    createdAt: iso(r.created_at)!,
    finishedAt: iso(r.finished_at),
  };
}
