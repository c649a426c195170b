import { z } from 'zod';
import {
  AccountView,
  BillingSettingsView,
  CreatePaymentRequest,
  CustomerView,
  EntryParams,
  LedgerEntryView,
  PageQuery,
  PaymentList,
  PaymentListQuery,
  PaymentPreview,
  PaymentPreviewQuery,
  ReceiptView,
  ReverseRequest,
  UpdateBillingSettingsRequest,
  listOf,
} from '@mtandao/protocol/api';
import type { Services } from '../container.ts';
import { HttpResult, route } from '../http/route.ts';
import { IdParams, meta } from './helpers.ts';

/** The customer's account, payments, receipts and billing settings (SPEC section 11). */
export function billingRoutes(s: Services) {
  return [
    route({
      method: 'get',
      path: '/customers/:id/payments',
      tag: 'Payments',
      access: 'read',
      summary: "The customer's account: every entry, newest first",
      params: IdParams,
      query: PageQuery.extend({ pageSize: PageQuery.shape.pageSize.unwrap().max(1000).default(200) }),
      response: listOf(LedgerEntryView),
      handler: async (ctx) => s.billing.entries(ctx.params.id, ctx.query.page, ctx.query.pageSize),
    }),
    route({
      method: 'post',
      path: '/customers/:id/payments',
      tag: 'Payments',
      access: 'write',
      status: 201,
      summary: 'Record a payment (kind plan: renews while the balance covers the price), a debt, an installation fee, or (admin) an adjustment',
      params: IdParams,
      body: CreatePaymentRequest,
      response: z.object({ payment: LedgerEntryView, customer: CustomerView, periods: z.number().int(), message: z.string() }),
      handler: async (ctx) => s.billing.record(meta(ctx), ctx.params.id, ctx.body),
    }),
    route({
      method: 'get',
      path: '/customers/:id/account',
      tag: 'Payments',
      access: 'read',
      summary: 'Balance, what is due now and what the balance covers',
      params: IdParams,
      response: AccountView,
      handler: async (ctx) => s.billing.account(ctx.params.id),
    }),
    route({
      method: 'get',
      path: '/customers/:id/payment-preview',
      tag: 'Payments',
      access: 'read',
      summary: 'What a payment of this amount would do, before it is recorded',
      params: IdParams,
      query: PaymentPreviewQuery,
      response: PaymentPreview,
      handler: async (ctx) => s.billing.preview(ctx.params.id, ctx.query.amount),
    }),
    route({
      method: 'get',
      path: '/payments',
      tag: 'Payments',
      access: 'read',
      summary: 'Payments and their reversals with totals; format=csv for a spreadsheet',
      query: PaymentListQuery,
      response: PaymentList,
      handler: async (ctx) => {
        if (ctx.query.format === 'csv')
          return new HttpResult(await s.payments.csv(ctx.query), { contentType: 'text/csv; charset=utf-8', filename: 'payments.csv' });
        return s.payments.list(ctx.query);
      },
    }),
    route({
      method: 'post',
      path: '/payments/:id/reverse',
      tag: 'Payments',
      access: 'admin',
      status: 201,
      summary: 'Reverse an entry (admin, with a reason): an entry of the opposite side',
      params: EntryParams,
      body: ReverseRequest,
      response: LedgerEntryView,
      handler: async (ctx) => s.billing.reverse(meta(ctx), ctx.params.id, ctx.body.reason),
    }),
    route({
      method: 'get',
      path: '/payments/:id/receipt',
      tag: 'Payments',
      access: 'read',
      summary: 'A printable receipt of a payment',
      params: EntryParams,
      response: ReceiptView,
      handler: async (ctx) => s.payments.receipt(ctx.params.id),
    }),
    route({
      method: 'get',
      path: '/settings/billing',
      tag: 'Settings',
      access: 'read',
      summary: 'Billing settings: auto-renew, grace hours, plan change default',
      response: BillingSettingsView,
      handler: async () => s.settings.billing(),
    }),
    route({
      method: 'put',
      path: '/settings/billing',
      tag: 'Settings',
      access: 'admin',
      summary: 'Change billing settings (admin)',
      body: UpdateBillingSettingsRequest,
      response: BillingSettingsView,
      handler: async (ctx) => s.settings.updateBilling(meta(ctx), ctx.body),
    }),
  ];
}
