import { z } from 'zod';
import { CreateVoucherBatchRequest, HotspotSessionView, VoucherSettings, JobView, PageQuery, VoucherBatchView, VoucherPrintQuery, VoucherQuery, VoucherView, listOf } from '@mtandao/protocol/api';
import type { Services } from '../container.ts';
import { FileResult, HttpResult, route } from '../http/route.ts';
import { IdParams, meta } from './helpers.ts';

/** Vouchers, their print sheets, and the router's hotspot: who is online, the portal's files. */
export function voucherRoutes(s: Services) {
  return [
    route({
      method: 'post', path: '/vouchers/batches', tag: 'Vouchers', access: 'write', status: 201,
      summary: 'Make a batch of vouchers for a hotspot plan; they are sent to the plan\u2019s routers',
      body: CreateVoucherBatchRequest, response: VoucherBatchView.extend({ jobs: z.number() }),
      handler: async (ctx) => s.vouchers.createBatch(meta(ctx), ctx.body),
    }),
    route({ method: 'get', path: '/settings/vouchers', tag: 'Vouchers', access: 'read', summary: 'Where a voucher\u2019s time runs from unless its batch says: first-login or sale', response: VoucherSettings, handler: async () => s.vouchers.settings() }),
    route({ method: 'put', path: '/settings/vouchers', tag: 'Vouchers', access: 'admin', summary: 'Set where a voucher\u2019s time runs from by default', body: VoucherSettings, response: VoucherSettings, handler: async (ctx) => s.vouchers.updateSettings(meta(ctx), ctx.body) }),
    route({ method: 'get', path: '/vouchers/batches', tag: 'Vouchers', access: 'read', summary: 'Voucher batches, newest first', query: PageQuery, response: listOf(VoucherBatchView), handler: async (ctx) => s.vouchers.batches(ctx.query) }),
    route({ method: 'get', path: '/vouchers/batches/:id', tag: 'Vouchers', access: 'read', summary: 'One voucher batch', params: IdParams, response: VoucherBatchView, handler: async (ctx) => s.vouchers.batch(ctx.params.id) }),
    route({
      method: 'get', path: '/vouchers/batches/:id/print', tag: 'Vouchers', access: 'read',
      summary: 'The A4 print sheet of a batch (HTML with QR codes); format=csv for the codes as CSV',
      params: IdParams, query: VoucherPrintQuery,
      handler: async (ctx) =>
        ctx.query.format === 'csv'
          ? new FileResult(await s.voucherPrint.csv(ctx.params.id), 'text/csv; charset=utf-8', `vouchers-${ctx.params.id}.csv`)
          : new HttpResult(await s.voucherPrint.html(ctx.params.id, ctx.query.page ?? 1), { contentType: 'text/html; charset=utf-8' }),
    }),
    route({ method: 'get', path: '/vouchers', tag: 'Vouchers', access: 'read', summary: 'Vouchers; filter by batch, status, or part of the code', query: VoucherQuery, response: listOf(VoucherView), handler: async (ctx) => s.vouchers.list(ctx.query) }),
    route({ method: 'get', path: '/vouchers/:id', tag: 'Vouchers', access: 'read', summary: 'One voucher', params: IdParams, response: VoucherView, handler: async (ctx) => s.vouchers.get(ctx.params.id) }),
    route({ method: 'post', path: '/vouchers/:id/revoke', tag: 'Vouchers', access: 'write', summary: 'Revoke a voucher: taken off the routers, its session dropped', params: IdParams, response: VoucherView, handler: async (ctx) => s.vouchers.revoke(meta(ctx), ctx.params.id) }),
    route({ method: 'get', path: '/routers/:id/hotspot/active', tag: 'Hotspot', access: 'read', summary: 'Who is online on the router\u2019s hotspot, as its agent last read it', params: IdParams, response: listOf(HotspotSessionView), handler: async (ctx) => s.hotspot.sessions(ctx.params.id) }),
    route({ method: 'post', path: '/routers/:id/hotspot/refresh', tag: 'Hotspot', access: 'write', summary: 'Ask the agent to read the router\u2019s hotspot now', params: IdParams, status: 202, response: JobView, handler: async (ctx) => s.hotspot.refresh(meta(ctx), ctx.params.id) }),
    route({ method: 'post', path: '/routers/:id/hotspot/setup', tag: 'Hotspot', access: 'write', summary: 'Put the portal\u2019s host in the router\u2019s walled garden (marked entries)', params: IdParams, status: 202, response: JobView, handler: async (ctx) => s.hotspot.setup(meta(ctx), ctx.params.id) }),
    route({
      method: 'get', path: '/routers/:id/hotspot-files.zip', tag: 'Hotspot', access: 'read',
      summary: 'The hotspot login.html that sends devices to the site\u2019s portal with MikroTik\u2019s variables',
      params: IdParams,
      handler: async (ctx) => new FileResult(await s.hotspot.filesZip(ctx.params.id), 'application/zip', 'hotspot-files.zip'),
    }),
  ];
}
