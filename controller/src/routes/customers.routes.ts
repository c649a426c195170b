import { z } from 'zod';
import {
  ChangePlanRequest, CreateCustomerRequest, CreatePaymentRequest, CustomerListQuery, CustomerView, ExtendRequest, PageQuery, PaymentView, SmsView,
  UpdateCustomerRequest, listOf,
} from '@mtandao/protocol/api';
import type { Services } from '../container.ts';
import { route } from '../http/route.ts';
import { IdParams, meta, Ok, done } from './helpers.ts';

const lifecycle = (s: Services, action: 'activate' | 'suspend' | 'unsuspend' | 'disconnect', summary: string) =>
  route({ method: 'post', path: `/customers/:id/${action}`, tag: 'Customers', access: 'write', summary, params: IdParams, response: CustomerView, handler: async (ctx) => s.customers[action](meta(ctx), ctx.params.id) });

export function customerRoutes(s: Services) {
  return [
    route({
      method: 'get', path: '/customers/generate-username', tag: 'Customers', access: 'read', summary: 'A unique username from the name or the phone',
      query: z.object({ name: z.string().max(200).optional(), phone: z.string().max(32).optional() }), response: z.object({ username: z.string() }),
      handler: async (ctx) => s.customers.generateUsername(ctx.query),
    }),
    route({ method: 'get', path: '/customers/generate-account-number', tag: 'Customers', access: 'read', summary: 'A unique additional account number', response: z.object({ accountNumber: z.string() }), handler: async () => s.customers.generateAccountNumber() }),
    route({ method: 'get', path: '/customers', tag: 'Customers', access: 'read', summary: 'List and search customers (name, phone, username, account number, IP); filter by plan, site, router, expiring, owing; sort; format=csv exports every match', query: CustomerListQuery, response: listOf(CustomerView), handler: async (ctx) => s.customerList.list(ctx.query) }),
    route({ method: 'post', path: '/customers', tag: 'Customers', access: 'write', status: 201, summary: 'Add a customer (the Add Customer flow)', body: CreateCustomerRequest, response: CustomerView, handler: async (ctx) => s.customers.create(meta(ctx), ctx.body) }),
    route({ method: 'get', path: '/customers/:id', tag: 'Customers', access: 'read', summary: 'One customer with plan, IP, status, expiry and latest job', params: IdParams, response: CustomerView, handler: async (ctx) => s.customers.get(ctx.params.id) }),
    route({
      method: 'patch', path: '/customers/:id', tag: 'Customers', access: 'write', summary: 'Edit personal details, login, IP or additional account number', params: IdParams, body: UpdateCustomerRequest, response: CustomerView,
      handler: async (ctx) => s.customers.update(meta(ctx), ctx.params.id, ctx.body),
    }),
    route({
      method: 'delete', path: '/customers/:id', tag: 'Customers', access: 'write', summary: 'Delete a customer: frees the IP and removes it from routers', params: IdParams, response: Ok,
      handler: async (ctx) => done(s.customers.remove(meta(ctx), ctx.params.id)),
    }),
    route({ method: 'get', path: '/customers/:id/password', tag: 'Customers', access: 'reveal', summary: 'Reveal the password (audited)', params: IdParams, response: z.object({ password: z.string() }), handler: async (ctx) => s.customers.revealPassword(meta(ctx), ctx.params.id) }),
    route({ method: 'post', path: '/customers/:id/send-payment-details', tag: 'Customers', access: 'write', summary: 'Send the payment details by SMS', params: IdParams, response: SmsView, handler: async (ctx) => s.sms.sendPaymentDetails(meta(ctx), ctx.params.id) }),
    route({ method: 'get', path: '/customers/:id/sms', tag: 'Customers', access: 'read', summary: 'SMS sent to a customer', params: IdParams, query: PageQuery, response: listOf(SmsView), handler: async (ctx) => s.sms.list({ customerId: ctx.params.id, ...ctx.query }) }),
    route({ method: 'get', path: '/customers/:id/payments', tag: 'Customers', access: 'read', summary: 'Transactions', params: IdParams, response: listOf(PaymentView), handler: async (ctx) => s.customers.payments(ctx.params.id) }),
    route({
      method: 'post', path: '/customers/:id/payments', tag: 'Customers', access: 'write', status: 201, summary: 'Record a payment (a plan payment renews) or a debt',
      params: IdParams, body: CreatePaymentRequest, response: z.object({ payment: PaymentView, customer: CustomerView }), handler: async (ctx) => s.customers.addPayment(meta(ctx), ctx.params.id, ctx.body),
    }),
    lifecycle(s, 'activate', 'Activate an inactive or expired customer'),
    lifecycle(s, 'suspend', 'Suspend an active customer (blocked on the router)'),
    lifecycle(s, 'unsuspend', 'Restore a suspended customer'),
    lifecycle(s, 'disconnect', "Drop the customer's live session now"),
    route({ method: 'post', path: '/customers/:id/extend', tag: 'Customers', access: 'write', summary: 'Add time to the expiry without a payment', params: IdParams, body: ExtendRequest, response: CustomerView, handler: async (ctx) => s.customers.extend(meta(ctx), ctx.params.id, ctx.body) }),
    route({ method: 'post', path: '/customers/:id/change-plan', tag: 'Customers', access: 'write', summary: 'Move the customer to another plan', params: IdParams, body: ChangePlanRequest, response: CustomerView, handler: async (ctx) => s.customers.changePlan(meta(ctx), ctx.params.id, ctx.body) }),
  ];
}
