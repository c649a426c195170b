import { z } from 'zod';
import { BulkSmsPreview, BulkSmsPreviewRequest, BulkSmsRequest, BulkSmsResult, SmsTemplatesView, UpdateSmsTemplatesRequest } from '@mtandao/protocol/api';
import type { Services } from '../container.ts';
import { normaliseKenyanMobile } from '../lib/phone.ts';
import { route } from '../http/route.ts';
import { meta } from './helpers.ts';

const filterOf = (s: Services, f: z.infer<typeof BulkSmsRequest>['filter']) => ({
  ...f,
  phone: f.search ? normaliseKenyanMobile(f.search) : undefined,
  timezone: s.config.timezone,
});

export function smsRoutes(s: Services) {
  return [
    route({
      method: 'get',
      path: '/settings/sms-templates',
      tag: 'SMS',
      access: 'read',
      summary: 'SMS templates, reminder days, a preview of each with sample data, and the delivery-report URL',
      response: SmsTemplatesView,
      handler: async () => s.sms.templatesView(),
    }),
    route({
      method: 'put',
      path: '/settings/sms-templates',
      tag: 'SMS',
      access: 'admin',
      summary: 'Change SMS templates, reminder days, welcome and receipt messages',
      body: UpdateSmsTemplatesRequest,
      response: SmsTemplatesView,
      handler: async (ctx) => s.sms.updateTemplates(meta(ctx), ctx.body),
    }),
    route({
      method: 'post',
      path: '/sms/bulk/preview',
      tag: 'SMS',
      access: 'write',
      summary: 'How many customers of a filter a bulk SMS reaches, and how it reads for the first',
      body: BulkSmsPreviewRequest,
      response: BulkSmsPreview,
      handler: async (ctx) => s.sms.bulkPreview(filterOf(s, ctx.body.filter), ctx.body.message),
    }),
    route({
      method: 'post',
      path: '/sms/bulk',
      tag: 'SMS',
      access: 'write',
      status: 202,
      summary: 'Queue an SMS to every customer of a filter (confirmCount must match the current count)',
      body: BulkSmsRequest,
      response: BulkSmsResult,
      handler: async (ctx) => s.sms.bulkSend(meta(ctx), filterOf(s, ctx.body.filter), ctx.body.message, ctx.body.confirmCount),
    }),
    route({
      method: 'post',
      path: '/sms/delivery-report/:token',
      tag: 'SMS',
      access: 'public',
      summary: "Africa's Talking delivery report (form-encoded id, status, phoneNumber, networkCode, failureReason, retryCount)",
      params: z.object({ token: z.string().min(1).max(200) }),
      body: z.object({ id: z.string().max(200).optional(), status: z.string().max(60).optional() }).passthrough(),
      response: z.object({ ok: z.literal(true), updated: z.number().int() }),
      handler: async (ctx) => s.sms.deliveryReport(ctx.params.token, ctx.body as Record<string, unknown>),
    }),
  ];
}
