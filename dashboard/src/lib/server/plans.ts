import { ConnectionType, ValidityUnit } from '@mtandao/protocol';
import { PLAN_REQUIRED_MESSAGE } from '@mtandao/protocol/api';
import type { Controller } from './api';
import { failure, text, type Values } from './forms';

const GB = 1_000_000_000;

/** A plan body from the plan form; what is missing stays missing, for the controller to name. */
export function planBody(v: Values, form: FormData) {
  const count = text(v, 'validity.count');
  const unit = ValidityUnit.safeParse(v['validity.unit']).data;
  const gb = text(v, 'dataLimit');
  const shared = text(v, 'sharedUsers');
  return {
    name: text(v, 'name'),
    connectionType: ConnectionType.safeParse(v.connectionType).data,
    price: text(v, 'price'),
    downloadSpeed: text(v, 'downloadSpeed'),
    uploadSpeed: text(v, 'uploadSpeed'),
    validity: count || unit ? { count, unit } : undefined,
    // staff think in GB; the API counts bytes
    dataLimit: gb === undefined ? null : Number.isFinite(Number(gb)) ? Math.round(Number(gb) * GB) : gb,
    sharedUsers: shared === undefined ? null : shared,
    routerIds: form.getAll('routerIds').map(String),
    poolIds: form.getAll('poolIds').map(String),
  };
}

/** The posted plan form with its checkbox lists joined, to re-render it after a refusal. */
export function planValues(v: Values, form: FormData): Values {
  return { ...v, routerIds: form.getAll('routerIds').join(','), poolIds: form.getAll('poolIds').join(',') };
}

/** The routers and pools a plan can be linked to. */
export async function planChoices(api: Controller) {
  const [routers, pools] = await Promise.all([api.routers.list(), api.pools.list()]);
  return { routers: routers.items, pools: pools.items };
}

/** The essentials of a plan, by form field: the controller names the first one missing, the form marks each. */
const ESSENTIALS = ['name', 'price', 'downloadSpeed', 'uploadSpeed', 'validity.count'] as const;

/**
 * A refused plan form: when essentials are blank, every blank one is marked with the contract message
 * ("Name, price, speed and validity are required"), not only the first the controller names.
 */
export function planFailure(err: unknown, values: Values) {
  const result = failure(err, values);
  const blank = ESSENTIALS.filter((f) => !text(values, f));
  if (blank.length > 0) {
    const errors = result.data.errors;
    delete errors.validity;
    delete errors._form;
    for (const f of blank) errors[f] = PLAN_REQUIRED_MESSAGE;
  }
  return result;
}
