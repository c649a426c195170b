import { CUSTOMER_CSV_COLUMNS, type CustomerSort, type CustomerView } from '@mtandao/protocol/api';
import { AppError } from '../errors.ts';
import { FileResult, type RequestMeta } from '../http/route.ts';
import type { AuditService } from './audit.service.ts';
import { toCsv } from '../lib/csv.ts';
import { normaliseKenyanMobile } from '../lib/phone.ts';
import type { CustomerFilter, CustomerListRepository } from '../repositories/customer-list.repository.ts';
import type { CustomersService } from './customers.service.ts';
import type { ProvisioningService } from './provisioning.service.ts';

/** The list's query as the route validated it. */
export type CustomerListInput = Omit<CustomerFilter, 'phone' | 'timezone'> & {
  sort?: CustomerSort | undefined;
  order?: 'asc' | 'desc' | undefined;
  format?: 'json' | 'csv' | undefined;
  passwords?: boolean | undefined;
  page: number;
  pageSize: number;
};

/** The customer list: search, filters, sorts, paging, and its CSV export. */
export class CustomerListService {
  constructor(
    private readonly repo: CustomerListRepository,
    private readonly customers: Pick<CustomersService, 'view' | 'passwordOf'>,
    private readonly provisioning: Pick<ProvisioningService, 'latestForCustomers'>,
    private readonly timezone: string,
    private readonly audit: Pick<AuditService, 'record'>,
  ) {}

  private filter(q: CustomerListInput): CustomerFilter {
    const { sort: _sort, order: _order, format: _format, passwords: _passwords, page: _page, pageSize: _pageSize, ...rest } = q;
    return { ...rest, phone: q.search ? normaliseKenyanMobile(q.search) : undefined, timezone: this.timezone };
  }

  async list(q: CustomerListInput, meta?: RequestMeta): Promise<{ items: CustomerView[]; total: number } | FileResult> {
    if (q.passwords && meta?.actor.role !== 'admin') throw new AppError(403, 'Only admins may export passwords', { field: 'passwords' });
    if (q.format === 'csv') return this.csv(q, meta);
    const { rows, total } = await this.repo.list(this.filter(q), q.sort ?? 'newest', q.order, q.pageSize, (q.page - 1) * q.pageSize);
    const jobs = await this.provisioning.latestForCustomers(rows.map((r) => String(r.id)));
    return { items: rows.map((r) => this.customers.view(r, jobs.get(String(r.id)))), total };
  }

  /**
   * Every matching customer (no paging) in the import template's columns, so the file imports
   * again as it is. Passwords only for an admin who asks for them, and that export is audited.
   */
  private async csv(q: CustomerListInput, meta?: RequestMeta): Promise<FileResult> {
    const { rows } = await this.repo.list(this.filter(q), q.sort ?? 'newest', q.order, undefined);
    const passwords = q.passwords && meta ? await this.repo.passwordsOf(rows.map((r) => String(r.id))) : undefined;
    if (passwords && meta) await this.audit.record(meta, 'customer.export-passwords', 'customer', null, { count: rows.length, filter: this.filter(q) });
    const lines = rows.map((r) => [
      r.full_name,
      r.phone,
      r.username,
      passwords ? this.customers.passwordOf({ id: r.id, passwordEnc: passwords.get(String(r.id))! }) : '',
      r.plan_name,
      r.connection_type,
      r.email,
      r.ip_address,
      r.account_number,
      r.expires_at ? new Date(r.expires_at).toISOString() : null,
    ]);
    const stamp = new Date().toISOString().slice(0, 10);
    return new FileResult(toCsv(CUSTOMER_CSV_COLUMNS, lines), 'text/csv; charset=utf-8', `customers-${stamp}.csv`);
  }
}
