import type { PageServerLoad } from './$types';

/** A payment's receipt, on a page of its own made for printing (no menu, print styles). */
export const load: PageServerLoad = async ({ locals, params }) => {
  const [receipt, settings] = await Promise.all([locals.api.payments.receipt(params.paymentId), locals.api.settings.get()]);
  return { receipt, customerId: params.id, settings: { currency: settings.currency, timezone: settings.timezone, paybillNumber: settings.paybillNumber } };
};
