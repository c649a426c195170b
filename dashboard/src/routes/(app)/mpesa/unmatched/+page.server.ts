import { ApiError } from '$lib/server/api';
import { act, text } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url }) => {
  const page = Math.max(1, Number(url.searchParams.get('page')) || 1);
  return { unmatched: await locals.api.mpesa.unmatched({ page, pageSize: 50 }), page };
};

export const actions: Actions = {
  assign: (e) =>
    act(e, 'assign', async (api, v) => {
      const who = text(v, 'customer');
      if (!who) throw new ApiError(422, 'Type the customer’s account number or username', 'validation_failed', 'customer');
      // the cashier types what the customer says: an account number, a username or a name
      const found = await api.customers.list({ search: who, pageSize: 5 });
      const exact = found.items.filter((c) => [c.accountNumber, c.additionalAccountNumber, c.username].some((x) => x?.toLowerCase() === who.toLowerCase()));
      const pick = exact.length === 1 ? exact[0] : found.total === 1 ? found.items[0] : undefined;
      if (!pick)
        throw new ApiError(
          422,
          found.total === 0 ? `No customer matches “${who}”` : `${found.total} customers match “${who}”: type the account number`,
          'validation_failed',
          'customer',
        );
      const t = await api.mpesa.assign(v.id ?? '', pick.id);
      return `${t.transId} (${t.amount}) assigned to ${pick.fullName}.`;
    }),
};
