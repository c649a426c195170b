import { AuditEntryView, AuditQuery, JobListQuery, JobView, PageQuery, SettingsView, SmsView, UpdateSettingsRequest, listOf } from '@mtandao/protocol/api';
import type { Services } from '../container.ts';
import { route } from '../http/route.ts';
import { IdParams, meta } from './helpers.ts';

export function adminRoutes(s: Services) {
  return [
    route({
      method: 'get',
      path: '/provisioning/jobs',
      tag: 'Provisioning',
      access: 'read',
      summary: 'Provisioning jobs, newest first',
      query: JobListQuery,
      response: listOf(JobView),
      handler: async (ctx) => s.provisioning.list(ctx.query, ctx.query.page, ctx.query.pageSize),
    }),
    route({
      method: 'get',
      path: '/provisioning/jobs/:id',
      tag: 'Provisioning',
      access: 'read',
      summary: 'One job with its events and the router replies',
      params: IdParams,
      response: JobView,
      handler: async (ctx) => s.provisioning.get(ctx.params.id),
    }),
    route({
      method: 'get',
      path: '/settings',
      tag: 'Settings',
      access: 'read',
      summary: 'ISP settings (secrets shown only as set or not)',
      response: SettingsView,
      handler: async () => s.settings.get(),
    }),
    route({
      method: 'patch',
      path: '/settings',
      tag: 'Settings',
      access: 'admin',
      summary: 'Change settings (SMS provider, paybill number)',
      body: UpdateSettingsRequest,
      response: SettingsView,
      handler: async (ctx) => s.settings.update(meta(ctx), ctx.body),
    }),
    route({
      method: 'get',
      path: '/sms',
      tag: 'Settings',
      access: 'read',
      summary: 'The SMS outbox',
      query: PageQuery,
      response: listOf(SmsView),
      handler: async (ctx) => s.sms.list(ctx.query),
    }),
    route({
      method: 'get',
      path: '/audit',
      tag: 'Settings',
      access: 'admin',
      summary: 'The audit log: who did what, filtered by actor, entity, action and time',
      query: AuditQuery,
      response: listOf(AuditEntryView),
      handler: async (ctx) => s.audit.list(ctx.query),
    }),
  ];
}

export const unusedIdParams = IdParams;
