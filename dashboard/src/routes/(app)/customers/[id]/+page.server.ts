import { redirect } from '@sveltejs/kit';
import { PaymentMethod, ValidityUnit } from '@mtandao/protocol';
import type { JobView, LedgerEntryView, PlanView, SmsView } from '@mtandao/protocol/api';
import { act, checked, text, type Values } from '$lib/server/forms';
import { jobsWithEvents } from '$lib/server/jobs';
import { money, validity } from '$lib/format';
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
  const [plan, plans, account, billing, entries, sms, jobs] = await Promise.all([
    api.plans.get(customer.planId).catch(() => undefined),
    canWrite ? api.plans.list({ connectionType: customer.connectionType }).then((r) => r.items) : ([] as PlanView[]),
    api.customers.account(params.id),
    canWrite ? api.settings.billing().catch(() => undefined) : undefined,
    tab === 'transactions' ? api.customers.payments(params.id).then((r) => r.items) : ([] as LedgerEntryView[]),
    tab === 'sms' ? api.customers.sms(params.id).then((r) => r.items) : ([] as SmsView[]),
    tab === 'provisioning' ? jobsWithEvents(api, { customerId: params.id, pageSize: JOBS_SHOWN }, JOBS_SHOWN).then((r) => r.items) : ([] as JobView[]),
  ]);
  return {
    customer,
    plan,
    plans,
    account,
    changePlanDefault: billing?.changePlanDefault ?? 'next-renewal',
    entries,
    sms,
    jobs,
    tab,
    added: url.searchParams.has('added'),
    reverseId: url.searchParams.get('reverse') ?? undefined,
  };
};

const amountOf = (v: Values) => v.amount ?? '';

/** An action whose effect travels to the router: the page follows the job in its notice. */
const routerChange = (notice: string) => ({ notice, routerChange: true });

const lifecycle = (action: 'suspend' | 'unsuspend' | 'disconnect', notice: string) => (e: RequestEvent) =>
  act(e, action, async (api) => (await api.customers.lifecycle(e.params.id, action), routerChange(notice)));

export const actions: Actions = {
  addPayment: (e) =>
    act(e, 'addPayment', async (api, v) => {
      const r = await api.customers.addPayment(e.params.id, {
        kind: 'plan',
        method: PaymentMethod.safeParse(v.method).data,
        amount: amountOf(v),
        reference: text(v, 'reference'),
        note: text(v, 'note'),
      });
      const receipt = r.payment.receiptNumber ? ` Receipt ${r.payment.receiptNumber}.` : '';
      return {
        notice: `Payment of ${money(r.payment.amount)} recorded.${receipt} ${r.message ?? ''}`.trim(),
        receiptId: r.payment.id,
        routerChange: r.periods !== undefined && r.periods > 0,
      };
    }),
  addDebt: (e) =>
    act(e, 'addDebt', async (api, v) => {
      const { payment } = await api.customers.addPayment(e.params.id, { kind: 'debt', amount: amountOf(v), note: text(v, 'note') });
      return `Debt of ${money(payment.amount)} recorded: the balance is now ${money(payment.balanceAfter)}.`;
    }),
  extend: (e) =>
    act(e, 'extend', async (api, v) => {
      const unit = ValidityUnit.safeParse(v.unit).data ?? 'days';
      await api.customers.extend(e.params.id, { count: v.count ?? '', unit, reason: v.reason ?? '' });
      const count = Number(v.count);
      return routerChange(`Expiry extended by ${Number.isInteger(count) ? validity({ count, unit }) : `${v.count} ${unit}`}.`);
    }),
  changePlan: (e) =>
    act(e, 'changePlan', async (api, v) => {
      const when = v.when === 'now' ? 'now' : 'next-renewal';
      const c = await api.customers.changePlan(e.params.id, { planId: v.planId ?? '', networkId: text(v, 'networkId'), ipAddress: text(v, 'ipAddress'), when });
      return c.nextPlanName && c.nextPlanId !== c.planId ? `Moves to ${c.nextPlanName} at the next renewal.` : routerChange(`Moved to ${c.planName}.`);
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
  activate: (e) =>
    act(e, 'activate', async (api, v) => {
      const c = await api.customers.activate(e.params.id, { onCredit: checked(v, 'onCredit') });
      return routerChange(c.balance.startsWith('-') ? `Activated on credit: the balance is ${money(c.balance)}.` : 'Activated.');
    }),
  suspend: lifecycle('suspend', 'Suspended.'),
  unsuspend: lifecycle('unsuspend', 'Unsuspended.'),
  disconnect: lifecycle('disconnect', 'Disconnected: the session is being dropped.'),
  reverse: (e) =>
    act(e, 'reverse', async (api, v) => {
      const entry = await api.payments.reverse(v.entryId ?? '', { reason: v.reason ?? '' });
      return `Reversed: ${money(entry.amount)} taken back; the balance is now ${money(entry.balanceAfter)}.`;
    }),
  revealPassword: (e) => act(e, 'revealPassword', async (api) => ({ password: (await api.customers.revealPassword(e.params.id)).password })),
  update: (e) =>
    act(e, 'update', async (api, v) => {
      const current = await api.customers.get(e.params.id);
      const changed = (name: 'fullName' | 'phone' | 'username' | 'ipAddress', now: string | null) =>
        text(v, name) !== undefined && text(v, name) !== (now ?? undefined) ? text(v, name) : undefined;
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
    // admins only: the controller refuses anyone else, and the page says so
    const result = await act(e, 'delete', async (api) => (await api.customers.remove(e.params.id), 'Deleted.'));
    if ('notice' in result) redirect(303, '/customers');
    return result;
  },
};
