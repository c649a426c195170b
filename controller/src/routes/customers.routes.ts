import { z } from 'zod';
import {
  ActivateRequest, ChangePlanRequest, CreateCustomerRequest, CustomerListQuery, CustomerView, ExtendRequest, PageQuery, SmsView, UpdateCustomerRequest, listOf,
} from '@mtandao/protocol/api';
import type { Services } from '../container.ts';
import { route } from '../http/route.ts';
import { IdParams, meta, Ok, done } from './helpers.ts';

const lifecycle = (s: Services, action: 'suspend' | 'unsuspend' | 'disconnect', summary: string) =>
  route({ method: 'post', path: `/customers/:id/${action}`, tag: 'Customers', access: 'write', summary, params: IdParams, response: CustomerView, handler: async (ctx) => s.lifecycle[action](meta(ctx), ctx.params.id) });

export function customerRoutes(s: Services) {
  return [
    route({
      method: 'get', path: '/customers/generate-username', tag: 'Customers', access: 'read', summary: 'A unique username from the name or the phone',
      query: z.object({ name: z.string().max(200).optional(), phone: z.string().max(32).optional() }), response: z.object({ username: z.string() }),
      handler: async (ctx) => s.registration.generateUsername(ctx.query),
    }),
    route({ method: 'get', path: '/customers/generate-account-number', tag: 'Customers', access: 'read', summary: 'A unique six-digit account number (easy to type as an M-Pesa account)', response: z.object({ accountNumber: z.string() }), handler: async () => s.registration.generateAccountNumber() }),
    route({ method: 'get', path: '/customers', tag: 'Customers', access: 'read', summary: 'List and search customers (name, phone, username, account number, IP); filter by plan, site, router, expiring, owing; sort; format=csv exports every match in the import template’s columns (passwords=true: with passwords, admins only, audited)', query: CustomerListQuery, response: listOf(CustomerView), handler: async (ctx) => s.customerList.list(ctx.query, meta(ctx)) }),
    route({ method: 'post', path: '/customers', tag: 'Customers', access: 'write', status: 201, summary: 'Add a customer (the Add Customer flow)', body: CreateCustomerRequest, response: CustomerView, handler: async (ctx) => s.registration.create(meta(ctx), ctx.body) }),
    route({ method: 'get', path: '/customers/:id', tag: 'Customers', access: 'read', summary: 'One customer with plan, IP, status, expiry and latest job', params: IdParams, response: CustomerView, handler: async (ctx) => s.customers.get(ctx.params.id) }),
    route({
      method: 'patch', path: '/customers/:id', tag: 'Customers', access: 'write', summary: 'Edit personal details, login, IP or additional account number', params: IdParams, body: UpdateCustomerRequest, response: CustomerView,
      handler: async (ctx) => s.customers.update(meta(ctx), ctx.params.id, ctx.body),
    }),
    route({
      method: 'delete', path: '/customers/:id', tag: 'Customers', access: 'admin', summary: 'Delete a customer (admin): frees the IP, removes it from routers; its account history stays', params: IdParams, response: Ok,
      handler: async (ctx) => done(s.customers.remove(meta(ctx), ctx.params.id)),
    }),
    route({ method: 'get', path: '/customers/:id/password', tag: 'Customers', access: 'reveal', summary: 'Reveal the password (audited)', params: IdParams, response: z.object({ password: z.string() }), handler: async (ctx) => s.customers.revealPassword(meta(ctx), ctx.params.id) }),
    route({ method: 'post', path: '/customers/:id/send-payment-details', tag: 'Customers', access: 'write', summary: 'Send the payment details by SMS', params: IdParams, response: SmsView, handler: async (ctx) => s.sms.sendPaymentDetails(meta(ctx), ctx.params.id) }),
    route({ method: 'get', path: '/customers/:id/sms', tag: 'Customers', access: 'read', summary: 'SMS sent to a customer', params: IdParams, query: PageQuery, response: listOf(SmsView), handler: async (ctx) => s.sms.list({ customerId: ctx.params.id, ...ctx.query }) }),
    route({
      method: 'post', path: '/customers/:id/activate', tag: 'Customers', access: 'write', summary: 'Activate an inactive or expired customer: charges the period (without cover: admin, or staff with onCredit)',
      params: IdParams, body: ActivateRequest, response: CustomerView, handler: async (ctx) => s.lifecycle.activate(meta(ctx), ctx.params.id, ctx.body),
    }),
    lifecycle(s, 'suspend', 'Suspend an active customer (blocked on the router)'),
    lifecycle(s, 'unsuspend', 'Restore a suspended customer'),
    lifecycle(s, 'disconnect', "Drop the customer's live session now"),
    route({ method: 'post', path: '/customers/:id/extend', tag: 'Customers', access: 'admin', summary: 'Add time to the expiry without a charge (admin, with a reason; audited)', params: IdParams, body: ExtendRequest, response: CustomerView, handler: async (ctx) => s.lifecycle.extend(meta(ctx), ctx.params.id, ctx.body) }),
    route({
      method: 'post', path: '/customers/:id/change-plan', tag: 'Customers', access: 'write', summary: 'Move the customer to another plan: now (pro rata) or from the next renewal',
      params: IdParams, body: ChangePlanRequest, response: CustomerView, handler: async (ctx) => s.lifecycle.changePlan(meta(ctx), ctx.params.id, ctx.body),
    }),
  ];
}
