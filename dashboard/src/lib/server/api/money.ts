/**
 * The controller calls of the money screens: payments and receipts, M-Pesa (settings, unmatched
 * transactions, STK pushes), hotspot vouchers, and the reports.
 */
import { z } from 'zod';
import {
  CashUpView,
  CreateVoucherBatchRequest,
  LedgerEntryView,
  MpesaRegisterResult,
  MpesaSettingsView,
  MpesaTransactionView,
  OverviewView,
  PaymentList,
  ReceiptView,
  RevenueView,
  ReverseRequest,
  StkView,
  UpdateMpesaSettingsRequest,
  VoucherBatchView,
  VoucherSettings,
  VoucherView,
  listOf,
  type VoucherStatus,
} from '@mtandao/protocol/api';
import type { PaymentMethod } from '@mtandao/protocol';
import { enc, qs, type ControllerClient, type Draft, type In } from './client';

/** Filters of the payments list. */
export type PaymentQuery = {
  from?: string;
  to?: string;
  method?: PaymentMethod;
  staffId?: string;
  customerId?: string;
  page?: number;
  pageSize?: number;
};

export const paymentsApi = (c: ControllerClient) => ({
  list: (query: PaymentQuery) => c.read(`/payments${qs(query)}`, PaymentList),
  csv: (query: PaymentQuery) => c.download(`/payments${qs({ ...query, page: undefined, pageSize: undefined, format: 'csv' })}`),
  receipt: (id: string) => c.read(`/payments/${enc(id)}/receipt`, ReceiptView),
  reverse: (id: string, body: In<typeof ReverseRequest>) => c.call('POST', `/payments/${enc(id)}/reverse`, LedgerEntryView, body),
});

export const mpesaApi = (c: ControllerClient) => ({
  settings: () => c.read('/settings/mpesa', MpesaSettingsView),
  updateSettings: (body: In<typeof UpdateMpesaSettingsRequest>) => c.call('PATCH', '/settings/mpesa', MpesaSettingsView, body),
  registerUrls: () => c.call('POST', '/settings/mpesa/register-urls', MpesaRegisterResult),
  regenerateToken: () => c.call('POST', '/settings/mpesa/regenerate-token', MpesaSettingsView),
  unmatched: (query: { page?: number; pageSize?: number }) => c.read(`/mpesa/unmatched${qs(query)}`, listOf(MpesaTransactionView)),
  assign: (id: string, customerId: string) => c.call('POST', `/mpesa/unmatched/${enc(id)}/assign`, MpesaTransactionView, { customerId }),
  stkPush: (customerId: string, body: { amount?: string; phone?: string }) =>
    c.call('POST', `/customers/${enc(customerId)}/stk-push`, StkView.extend({ customerMessage: z.string().nullable() }), body),
  stkPushes: (customerId: string) => c.read(`/customers/${enc(customerId)}/stk-pushes`, listOf(StkView)),
  stk: (checkoutRequestId: string) => c.read(`/mpesa/stk/${enc(checkoutRequestId)}`, StkView),
});

export const vouchersApi = (c: ControllerClient) => ({
  batches: (query: { page?: number; pageSize?: number } = {}) => c.read(`/vouchers/batches${qs(query)}`, listOf(VoucherBatchView)),
  createBatch: (body: Draft<In<typeof CreateVoucherBatchRequest>>) => c.call('POST', '/vouchers/batches', VoucherBatchView.extend({ jobs: z.number() }), body),
  list: (query: { batchId?: string; status?: VoucherStatus; search?: string; page?: number; pageSize?: number }) =>
    c.read(`/vouchers${qs(query)}`, listOf(VoucherView)),
  revoke: (id: string) => c.call('POST', `/vouchers/${enc(id)}/revoke`, VoucherView),
  settings: () => c.read('/settings/vouchers', VoucherSettings),
  print: (batchId: string, format?: 'csv', page?: string) => c.download(`/vouchers/batches/${enc(batchId)}/print`, { format, page }),
});

export const reportsApi = (c: ControllerClient) => ({
  overview: () => c.read('/reports/overview', OverviewView),
  revenue: (query: { from?: string; to?: string; groupBy?: string }) => c.read(`/reports/revenue${qs(query)}`, RevenueView),
  cashUp: (query: { date?: string; staffId?: string }) => c.read(`/reports/cash-up${qs(query)}`, CashUpView),
});
