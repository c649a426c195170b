import { redirect } from '@sveltejs/kit';
import { PaymentMethod, ValidityUnit } from '@mtandao/protocol';
import type { JobView, PaymentView, PlanView, SmsView } from '@mtandao/protocol/api';
import { act, text, type Values } from '$lib/server/forms';
import { jobsWithEvents } from '$lib/server/jobs';
import { money } from '$lib/format';
import type { Actions, PageServerLoad, RequestEvent } from './$types';

const TABS = ['profile', 'transactions', 'provisioning', 'sms'] as const;
type Tab = (typeof TABS)[number];

/** Jobs shown on the Provisioning tab, each with its events (the page polls the same). */
const JOBS_SHOWN = 20;

export const load: PageServerLoad = async ({ locals, params, url, parent }) => {
  const tabParam = url.searchParams.get('tab');
  const tab: Tab = (TABS as readonly string[]).includes(tabParam ?? '') ? (tabParam as Tab) : 'profile';
  const api = locals.api;
  const customer = await api.customers.get(params.id);
  const { canWrite } = await parent();
  const [plan, plans, payments, sms, jobs] = await Promise.all([
    api.plans.get(customer.planId).catch(() => undefined),
    canWrite ? api.plans.list({ connectionType: customer.connectionType }).then((r) => r.items) : ([] as PlanView[]),
    tab === 'transactions' ? api.customers.payments(params.id).then((r) => r.items) : ([] as PaymentView[]),
    tab === 'sms' ? api.customers.sms(params.id).then((r) => r.items) : ([] as SmsView[]),
    tab === 'provisioning' ? jobsWithEvents(api, { customerId: params.id, pageSize: JOBS_SHOWN }, JOBS_SHOWN).then((r) => r.items) : ([] as JobView[]),
  ]);
  return { customer, plan, plans, payments, sms, jobs, tab, added: url.searchParams.has('added') };
};

const amountOf = (v: Values) => v.amount ?? '';

const lifecycle = (action: 'activate' | 'suspend' | 'unsuspend' | 'disconnect', notice: string) => (e: RequestEvent) =>
  act(e, action, async (api) => (await api.customers.lifecycle(e.params.id, action), notice));

export const actions: Actions = {
  addPayment: (e) =>
    act(e, 'addPayment', async (api, v) => {
      const { payment, message } = await api.customers.addPayment(e.params.id, { kind: 'plan', method: PaymentMethod.safeParse(v.method).data, amount: amountOf(v), reference: text(v, 'reference'), note: text(v, 'note') });
      return `Payment of ${money(payment.amount)} recorded. ${message}`;
    }),
  addDebt: (e) =>
    act(e, 'addDebt', async (api, v) => {
      // the API asks a method of every payment; a debt was not paid by any, so it is recorded as cash
      const { payment } = await api.customers.addPayment(e.params.id, { kind: 'debt', amount: amountOf(v), note: text(v, 'note') });
      return `Debt of ${money(payment.amount)} recorded.`;
    }),
  extend: (e) =>
    act(e, 'extend', async (api, v) => {
      await api.customers.extend(e.params.id, { count: v.count ?? '', unit: ValidityUnit.safeParse(v.unit).data ?? 'days', reason: v.reason ?? '' });
      return `Expiry extended by ${v.count} ${v.unit ?? 'days'}.`;
    }),
  changePlan: (e) =>
    act(e, 'changePlan', async (api, v) => {
      const when = v.when === 'now' || v.when === 'next-renewal' ? v.when : undefined;
      const c = await api.customers.changePlan(e.params.id, { planId: v.planId ?? '', ipAddress: text(v, 'ipAddress'), when });
      return c.nextPlanId ? `${c.nextPlanName} from the next renewal.` : `Moved to ${c.planName}.`;
    }),
  stkPush: (e) =>
    act(e, 'stkPush', async (api, v) => {
      const stk = await api.mpesa.stkPush(e.params.id, { amount: text(v, 'amount'), phone: text(v, 'phone') });
      return { notice: '', stk };
    }),
  sendPaymentDetails: (e) =>
    act(e, 'sendPaymentDetails', async (api) => {
      const sms = await api.customers.sendPaymentDetails(e.params.id);
      return sms.status === 'failed' ? `The SMS to ${sms.to} failed: ${sms.error ?? 'unknown error'}` : `Payment details sent by SMS to ${sms.to}.`;
    }),
  activate: lifecycle('activate', 'Activated. The router is being updated.'),
  suspend: lifecycle('suspend', 'Suspended. The router is being updated.'),
  unsuspend: lifecycle('unsuspend', 'Unsuspended. The router is being updated.'),
  disconnect: lifecycle('disconnect', 'Disconnected: the session is being dropped on the router.'),
  revealPassword: (e) => act(e, 'revealPassword', async (api) => ({ password: (await api.customers.revealPassword(e.params.id)).password })),
  update: (e) =>
    act(e, 'update', async (api, v) => {
      const current = await api.customers.get(e.params.id);
      const changed = (name: 'fullName' | 'phone' | 'username' | 'ipAddress', now: string | null) => (text(v, name) !== undefined && text(v, name) !== (now ?? undefined) ? text(v, name) : undefined);
      const email = (v.email ?? '').trim();
      const extra = (v.additionalAccountNumber ?? '').trim();
      await api.customers.update(e.params.id, {
        fullName: changed('fullName', current.fullName),
        phone: changed('phone', current.phone),
        username: changed('username', current.username),
        ipAddress: changed('ipAddress', current.ipAddress),
        email: email === (current.email ?? '') ? undefined : email || null,
        additionalAccountNumber: extra === (current.additionalAccountNumber ?? '') ? undefined : extra || null,
        password: text(v, 'password'),
      });
      return 'Details saved.';
    }),
  delete: async (e) => {
    const result = await act(e, 'delete', async (api) => (await api.customers.remove(e.params.id), 'Deleted.'));
    if ('notice' in result) redirect(303, '/customers');
    return result;
  },
};
