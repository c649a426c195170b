import { z } from 'zod';
import { AssignMpesaRequest, MpesaRegisterResult, MpesaSettingsView, MpesaTransactionQuery, MpesaTransactionView, PageQuery, StkPushRequest, StkView, UpdateMpesaSettingsRequest, listOf } from '@mtandao/protocol/api';
import type { Services } from '../container.ts';
import { route } from '../http/route.ts';
import { IdParams, meta } from './helpers.ts';

const CheckoutParams = z.object({ checkoutRequestId: z.string().regex(/^[\w.-]{1,100}$/) });

/** M-Pesa settings, the unmatched queue and STK pushes (the public callbacks live in http/mpesa-callbacks.ts). */
export function mpesaRoutes(s: Services) {
  return [
    route({ method: 'get', path: '/settings/mpesa', tag: 'M-Pesa', access: 'admin', summary: 'M-Pesa settings (secrets only as set or not) and the callback URLs', response: MpesaSettingsView, handler: async () => s.mpesa.settings.view() }),
    route({ method: 'patch', path: '/settings/mpesa', tag: 'M-Pesa', access: 'admin', summary: 'Change M-Pesa settings; consumer key, secret and passkey are write-only', body: UpdateMpesaSettingsRequest, response: MpesaSettingsView, handler: async (ctx) => s.mpesa.settings.update(meta(ctx), ctx.body) }),
    // not idempotent-wrapped: it creates nothing, and the key's transaction would stay open across Daraja's answer
    route({ method: 'post', path: '/settings/mpesa/register-urls', idempotent: 'reserve', tag: 'M-Pesa', access: 'admin', summary: "Register the validation and confirmation URLs with Daraja (C2B register URL v2); answers with Daraja's reply", response: MpesaRegisterResult, handler: async (ctx) => s.mpesa.settings.registerUrls(meta(ctx)) }),
    route({ method: 'post', path: '/settings/mpesa/regenerate-token', idempotent: false, tag: 'M-Pesa', access: 'admin', summary: 'New secret token for the callback URLs (the old ones answer 404 at once)', response: MpesaSettingsView, handler: async (ctx) => s.mpesa.settings.regenerateToken(meta(ctx)) }),
    route({ method: 'get', path: '/mpesa/transactions', tag: 'M-Pesa', access: 'read', summary: 'Every M-Pesa notification received, newest first', query: MpesaTransactionQuery, response: listOf(MpesaTransactionView), handler: async (ctx) => s.mpesa.c2b.list(ctx.query) }),
    route({ method: 'get', path: '/mpesa/transactions/:id', tag: 'M-Pesa', access: 'read', summary: 'One M-Pesa notification', params: IdParams, response: MpesaTransactionView, handler: async (ctx) => s.mpesa.c2b.get(ctx.params.id) }),
    route({ method: 'get', path: '/mpesa/unmatched', tag: 'M-Pesa', access: 'read', summary: 'M-Pesa payments no account number matched, waiting to be assigned', query: PageQuery, response: listOf(MpesaTransactionView), handler: async (ctx) => s.mpesa.c2b.list({ ...ctx.query, status: 'unmatched' }) }),
    route({ method: 'post', path: '/mpesa/unmatched/:id/assign', tag: 'M-Pesa', access: 'write', summary: 'Give an unmatched M-Pesa payment to a customer (a payment, with the rules)', params: IdParams, body: AssignMpesaRequest, response: MpesaTransactionView, handler: async (ctx) => s.mpesa.c2b.assign(meta(ctx), ctx.params.id, ctx.body.customerId) }),
    route({ method: 'post', path: '/customers/:id/stk-push', idempotent: 'reserve', tag: 'M-Pesa', access: 'write', summary: "Send an M-Pesa prompt (STK push) to the customer's phone", params: IdParams, body: StkPushRequest, status: 201, response: StkView.extend({ customerMessage: z.string().nullable() }), handler: async (ctx) => s.mpesa.stk.push(meta(ctx), ctx.params.id, ctx.body) }),
    route({ method: 'get', path: '/customers/:id/stk-pushes', tag: 'M-Pesa', access: 'read', summary: "The customer's recent M-Pesa prompts", params: IdParams, response: listOf(StkView), handler: async (ctx) => s.mpesa.stk.ofCustomer(ctx.params.id) }),
    route({ method: 'get', path: '/mpesa/stk/:checkoutRequestId', tag: 'M-Pesa', access: 'read', summary: 'An M-Pesa prompt and what became of it', params: CheckoutParams, response: StkView, handler: async (ctx) => s.mpesa.stk.get(ctx.params.checkoutRequestId) }),
  ];
}
