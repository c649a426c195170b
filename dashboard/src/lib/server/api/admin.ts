/**
 * The controller calls of the administration screens: staff users, the audit log, company and
 * billing settings, and SMS (templates and bulk messages).
 */
import {
  AuditEntryView,
  BillingSettingsView,
  BulkSmsPreview,
  BulkSmsPreviewRequest,
  BulkSmsRequest,
  BulkSmsResult,
  CreateUserRequest,
  SettingsView,
  SmsTemplatesView,
  UpdateSettingsRequest,
  UpdateSmsTemplatesRequest,
  UpdateUserRequest,
  UserView,
  listOf,
} from '@mtandao/protocol/api';
import { Ok, enc, qs, type ControllerClient, type Draft, type In } from './client';

export const usersApi = (c: ControllerClient) => ({
  list: () => c.read('/users', listOf(UserView)),
  create: (body: Draft<In<typeof CreateUserRequest>>) => c.call('POST', '/users', UserView, body),
  update: (id: string, body: In<typeof UpdateUserRequest>) => c.call('PATCH', `/users/${enc(id)}`, UserView, body),
  remove: (id: string) => c.call('DELETE', `/users/${enc(id)}`, Ok),
});

export const auditApi = (c: ControllerClient) => ({
  list: (query: { actor?: string; entity?: string; entityId?: string; action?: string; from?: string; to?: string; page?: number; pageSize?: number }) =>
    c.read(`/audit${qs(query)}`, listOf(AuditEntryView)),
});

export const settingsApi = (c: ControllerClient) => ({
  get: () => c.read('/settings', SettingsView),
  update: (body: In<typeof UpdateSettingsRequest>) => c.call('PATCH', '/settings', SettingsView, body),
  billing: () => c.read('/settings/billing', BillingSettingsView),
});

export const smsApi = (c: ControllerClient) => ({
  templates: () => c.read('/settings/sms-templates', SmsTemplatesView),
  updateTemplates: (body: In<typeof UpdateSmsTemplatesRequest>) => c.call('PUT', '/settings/sms-templates', SmsTemplatesView, body),
  bulkPreview: (body: In<typeof BulkSmsPreviewRequest>) => c.call('POST', '/sms/bulk/preview', BulkSmsPreview, body),
  bulkSend: (body: In<typeof BulkSmsRequest>) => c.call('POST', '/sms/bulk', BulkSmsResult, body),
});
