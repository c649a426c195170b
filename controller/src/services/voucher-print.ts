import QRCode from 'qrcode';
import { formatAmount } from '../domain/money.ts';
import { notFound } from '../errors.ts';
import { toCsv } from '../lib/csv.ts';
import type { VouchersRepository } from '../repositories/vouchers.repository.ts';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** Vouchers per print sheet: ten A4 pages of 24 cards. */
export const PER_SHEET = 240;
const validityText = (count: number, unit: string): string => `${count} ${count === 1 ? unit.replace(/s$/, '') : unit}`;

/** The A4 print sheet of a batch (cards with code, plan, price, validity and a QR code) and its CSV. */
export class VoucherPrint {
  constructor(
    private readonly repo: VouchersRepository,
    private readonly company: () => Promise<string>,
    private readonly portalUrl: (planId: string) => Promise<string | null>,
    private readonly currency: string,
  ) {}

  async html(batchId: string, page = 1): Promise<string> {
    const b = await this.repo.batch(batchId);
    if (!b) throw notFound('Voucher batch');
    const [all, company, portal] = await Promise.all([this.repo.ofBatch(batchId), this.company(), this.portalUrl(String(b.plan_id))]);
    const pages = Math.max(1, Math.ceil(all.length / PER_SHEET));
    if (page > pages) throw notFound('Page of the print sheet');
    const vouchers = all.slice((page - 1) * PER_SHEET, page * PER_SHEET);
    const from = (page - 1) * PER_SHEET + 1;
    const nav =
      pages > 1
        ? `<p class="nav">Vouchers ${from}–${from + vouchers.length - 1} of ${all.length}. ${page > 1 ? `<a href="?page=${page - 1}">Previous</a> ` : ''}${page < pages ? `<a href="?page=${page + 1}">Next ${PER_SHEET}</a>` : ''}</p>`
        : '';
    const price = `${this.currency} ${formatAmount(b.price_minor)}`;
    const validity = validityText(b.validity_count, b.validity_unit);
    const cards: string[] = [];
    for (const v of vouchers) {
      const url = portal ? `${portal}?code=${encodeURIComponent(v.code)}` : v.code;
      const qr = await QRCode.toString(url, { type: 'svg', margin: 0, errorCorrectionLevel: 'L' });
      cards.push(
        `<div class="card${v.status === 'revoked' ? ' void' : ''}"><div class="qr">${qr}</div><div><div class="co">${esc(company)}</div><div class="plan">${esc(b.plan_name)}</div>` +
          `<div class="code">${esc(v.code)}</div><div class="meta">${esc(price)} · ${esc(validity)}${b.data_limit_bytes ? ` · ${Math.round(Number(b.data_limit_bytes) / 1024 ** 2)} MB` : ''}</div></div></div>`,
      );
    }
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Vouchers ${esc(b.plan_name)} — batch ${esc(String(b.id))}</title><style>
@page{size:A4;margin:10mm}body{font-family:system-ui,sans-serif;margin:0}h1{font-size:14px;margin:0 0 4mm}
.sheet{display:grid;grid-template-columns:repeat(3,1fr);gap:3mm}.card{display:flex;gap:3mm;border:1px dashed #888;padding:3mm;break-inside:avoid;height:30mm;box-sizing:border-box}
.qr svg{width:24mm;height:24mm}.co{font-size:9px;color:#555}.plan{font-weight:600;font-size:11px}.code{font:700 16px ui-monospace,monospace;letter-spacing:1px;margin:1mm 0}
.meta{font-size:10px}.void{opacity:.35}.nav{font-size:12px}@media print{.nav{display:none}}@media screen{body{padding:10mm;max-width:190mm}}
</style></head><body><h1>${esc(company)} — ${esc(b.plan_name)}, ${esc(price)}, ${esc(validity)} — batch ${esc(String(b.id))} (${all.length} vouchers)</h1>${nav}
<div class="sheet">${cards.join('')}</div></body></html>`;
  }

  async csv(batchId: string): Promise<string> {
    const b = await this.repo.batch(batchId);
    if (!b) throw notFound('Voucher batch');
    const vouchers = await this.repo.ofBatch(batchId);
    return toCsv(
      ['code', 'plan', 'price', 'validity', 'status', 'batch'],
      vouchers.map((v) => [v.code, b.plan_name, formatAmount(b.price_minor), validityText(b.validity_count, b.validity_unit), v.status, String(b.id)]),
    );
  }
}
