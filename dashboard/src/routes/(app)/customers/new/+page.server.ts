import { error, redirect } from '@sveltejs/kit';
import { ConnectionType, PaymentMethod } from '@mtandao/protocol';
import type { CreateCustomerRequest, NetworkView, PlanView } from '@mtandao/protocol/api';
import type { Controller, Draft } from '$lib/server/api';
import { checked, failure, formValues, text, type Values } from '$lib/server/forms';
import { generatePassword } from '$lib/server/password';
import type { Actions, PageServerLoad } from './$types';

/** What the form offers for the choices made so far (the server's half of the step-by-step form). */
export type AddOptions = { plans: PlanView[]; plansLoaded: boolean; networks: NetworkView[]; networkId: string | undefined; ips: string[] };

type Selection = { connectionType: ConnectionType | undefined; planId: string | undefined; networkId: string | undefined };

const selectionOf = (get: (name: string) => string | null | undefined): Selection => ({
  connectionType: ConnectionType.safeParse(get('connectionType')).data,
  planId: get('planId') || undefined,
  networkId: get('networkId') || undefined,
});

async function addOptions(api: Controller, sel: Selection): Promise<AddOptions> {
  const none: AddOptions = { plans: [], plansLoaded: false, networks: [], networkId: undefined, ips: [] };
  if (!sel.connectionType) return none;
  // archived plans are kept for existing customers, not offered to new ones
  const plans = (await api.plans.list({ connectionType: sel.connectionType })).items.filter((p) => !p.archived);
  const plan = plans.find((p) => p.id === sel.planId);
  if (!plan || sel.connectionType === 'hotspot') return { ...none, plans, plansLoaded: true };
  const networks = (await api.plans.networks(plan.id)).items;
  // the help page: "If the plan only has one pool, it auto-selects"
  const network = networks.find((n) => n.id === sel.networkId) ?? (networks.length === 1 ? networks[0] : undefined);
  // /24 and smaller: a dropdown of every available IP; larger blocks are searched by prefix as staff type
  const ips = network && !network.searchable ? (await api.networks.availableIps(network.id, { limit: 1024 })).ips : [];
  return { plans, plansLoaded: true, networks, networkId: network?.id, ips };
}

function customerBody(v: Values): Draft<CreateCustomerRequest> {
  const connectionType = ConnectionType.safeParse(v.connectionType).data;
  const withIp = connectionType !== 'hotspot';
  return {
    connectionType,
    planId: text(v, 'planId'),
    networkId: withIp ? text(v, 'networkId') : undefined,
    ipAddress: withIp ? text(v, 'ipAddress') : undefined,
    fullName: v.fullName ?? '',
    phone: v.phone ?? '',
    email: text(v, 'email'),
    username: v.username ?? '',
    password: text(v, 'password'),
    additionalAccountNumber: checked(v, 'addAccountNumber') ? text(v, 'additionalAccountNumber') : undefined,
    payment: {
      method: PaymentMethod.safeParse(v['payment.method']).data,
      installationFee: checked(v, 'chargeInstallationFee') ? text(v, 'payment.installationFee') : undefined,
      customAmount: checked(v, 'chargeCustomAmount') ? text(v, 'payment.customAmount') : undefined,
      reference: text(v, 'payment.reference'),
    },
    autoActivate: v.autoActivate !== 'no',
  };
}

export const load: PageServerLoad = async ({ locals, url, parent }) => {
  if (!(await parent()).canWrite) error(403, 'Your role may look, not add customers.');
  const selection = selectionOf((k) => url.searchParams.get(k));
  return { selection, options: await addOptions(locals.api, selection), password: generatePassword() };
};

/** The form as posted with the options for its choices: what a page without JavaScript re-renders. */
async function echo(api: Controller, values: Values) {
  return {
    values,
    errors: {} as Record<string, string>,
    message: '',
    options: await addOptions(
      api,
      selectionOf((k) => values[k]),
    ),
  };
}

export const actions: Actions = {
  create: async ({ locals, request }) => {
    const values = formValues(await request.formData());
    let id: string;
    try {
      id = (await locals.api.customers.create(customerBody(values))).id;
    } catch (err) {
      return failure(err, values, {
        options: await addOptions(
          locals.api,
          selectionOf((k) => values[k]),
        ),
      });
    }
    redirect(303, `/customers/${id}?added=1`);
  },
  // Without JavaScript, each step is a round trip: these re-render the form with what comes next.
  refresh: async ({ locals, request }) => echo(locals.api, formValues(await request.formData())),
  generateUsername: async ({ locals, request }) => {
    const values = formValues(await request.formData());
    const { username } = await locals.api.customers.generateUsername({ name: text(values, 'fullName'), phone: text(values, 'phone') });
    return echo(locals.api, { ...values, username });
  },
  generateAccountNumber: async ({ locals, request }) => {
    const values = formValues(await request.formData());
    const { accountNumber } = await locals.api.customers.generateAccountNumber();
    return echo(locals.api, { ...values, addAccountNumber: 'on', additionalAccountNumber: accountNumber });
  },
};
