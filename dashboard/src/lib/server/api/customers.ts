/**
 * The controller calls of the customer screens: customers (their account, payments, lifecycle and
 * messages), the plans they are sold, and the CSV import that brings them in.
 */
import { z } from 'zod';
import {
  AccountView,
  ActivateRequest,
  ChangePlanRequest,
  CreateCustomerRequest,
  CreatePaymentRequest,
  CreatePlanRequest,
  CustomerView,
  ExtendRequest,
  ImportDryRun,
  ImportStatusView,
  LedgerEntryView,
  NetworkView,
  PaymentPreview,
  PlanView,
  SmsView,
  UpdateCustomerRequest,
  UpdatePlanRequest,
  listOf,
  type CustomerSort,
} from '@mtandao/protocol/api';
import type { ConnectionType, CustomerStatus } from '@mtandao/protocol';
import { Ok, enc, qs, type ControllerClient, type Draft, type In } from './client';

/** Filters and order of the customer list (and of its export). */
export type CustomerQuery = {
  search?: string;
  status?: CustomerStatus;
  planId?: string;
  siteId?: string;
  routerId?: string;
  expiringWithinDays?: number;
  owing?: boolean;
  sort?: CustomerSort;
  order?: 'asc' | 'desc';
  page?: number;
  pageSize?: number;
};

export const customersApi = (c: ControllerClient) => ({
  list: (query: CustomerQuery) => c.read(`/customers${qs(query)}`, listOf(CustomerView)),
  get: (id: string) => c.read(`/customers/${enc(id)}`, CustomerView),
  generateUsername: (query: { name?: string; phone?: string }) => c.read(`/customers/generate-username${qs(query)}`, z.object({ username: z.string() })),
  generateAccountNumber: () => c.read('/customers/generate-account-number', z.object({ accountNumber: z.string() })),
  create: (body: Draft<In<typeof CreateCustomerRequest>>) => c.call('POST', '/customers', CustomerView, body),
  update: (id: string, body: In<typeof UpdateCustomerRequest>) => c.call('PATCH', `/customers/${enc(id)}`, CustomerView, body),
  remove: (id: string) => c.call('DELETE', `/customers/${enc(id)}`, Ok),
  revealPassword: (id: string) => c.call('GET', `/customers/${enc(id)}/password`, z.object({ password: z.string() })),
  payments: (id: string) => c.read(`/customers/${enc(id)}/payments`, listOf(LedgerEntryView)),
  addPayment: (id: string, body: In<typeof CreatePaymentRequest>) =>
    c.call(
      'POST',
      `/customers/${enc(id)}/payments`,
      z.object({ payment: LedgerEntryView, customer: CustomerView, periods: z.number().int(), message: z.string() }),
      body,
    ),
  account: (id: string) => c.read(`/customers/${enc(id)}/account`, AccountView),
  paymentPreview: (id: string, amount: string) => c.call('GET', `/customers/${enc(id)}/payment-preview${qs({ amount })}`, PaymentPreview),
  activate: (id: string, body: In<typeof ActivateRequest>) => c.call('POST', `/customers/${enc(id)}/activate`, CustomerView, body),
  sms: (id: string) => c.read(`/customers/${enc(id)}/sms${qs({ pageSize: 100 })}`, listOf(SmsView)),
  sendPaymentDetails: (id: string) => c.call('POST', `/customers/${enc(id)}/send-payment-details`, SmsView),
  lifecycle: (id: string, action: 'suspend' | 'unsuspend' | 'disconnect') => c.call('POST', `/customers/${enc(id)}/${action}`, CustomerView),
  extend: (id: string, body: In<typeof ExtendRequest>) => c.call('POST', `/customers/${enc(id)}/extend`, CustomerView, body),
  changePlan: (id: string, body: In<typeof ChangePlanRequest>) => c.call('POST', `/customers/${enc(id)}/change-plan`, CustomerView, body),
});

export const plansApi = (c: ControllerClient) => ({
  list: (query: { connectionType?: ConnectionType } = {}) => c.read(`/plans${qs(query)}`, listOf(PlanView)),
  get: (id: string) => c.read(`/plans/${enc(id)}`, PlanView),
  networks: (id: string) => c.read(`/plans/${enc(id)}/networks`, listOf(NetworkView)),
  create: (body: Draft<In<typeof CreatePlanRequest>>) => c.call('POST', '/plans', PlanView, body),
  update: (id: string, body: Draft<In<typeof UpdatePlanRequest>>) => c.call('PATCH', `/plans/${enc(id)}`, PlanView, body),
  setArchived: (id: string, archived: boolean) => c.call('POST', `/plans/${enc(id)}/${archived ? 'archive' : 'unarchive'}`, PlanView),
  remove: (id: string) => c.call('DELETE', `/plans/${enc(id)}`, Ok),
});

export const importsApi = (c: ControllerClient) => ({
  upload: (form: FormData) => c.upload('/imports/customers', form, ImportDryRun),
  commit: (id: string) => c.call('POST', `/imports/${enc(id)}/commit`, ImportStatusView),
  status: (id: string) => c.call('GET', `/imports/${enc(id)}`, ImportStatusView),
});
