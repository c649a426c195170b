import { VoucherStatus } from '@mtandao/protocol/api';
import { act, text } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url, depends }) => {
  depends('app:vouchers');
  const status = VoucherStatus.safeParse(url.searchParams.get('status')).data;
  const search = url.searchParams.get('search')?.trim() || undefined;
  const batchId = url.searchParams.get('batchId') || undefined;
  const page = Math.max(1, Number(url.searchParams.get('page')) || 1);
  const [plans, batches, vouchers, settings] = await Promise.all([
    locals.api.plans.list({ connectionType: 'hotspot' }),
    locals.api.vouchers.batches({ pageSize: 10 }),
    locals.api.vouchers.list({ status, search, batchId, page, pageSize: 50 }),
    locals.api.vouchers.settings(),
  ]);
  return {
    plans: plans.items.filter((p) => !p.archived),
    batches: batches.items,
    vouchers,
    filters: { status: status ?? '', search: search ?? '', batchId: batchId ?? '' },
    page,
    validityFrom: settings.validityFrom,
  };
};

export const actions: Actions = {
  createBatch: (e) =>
    act(e, 'createBatch', async (api, v) => {
      const b = await api.vouchers.createBatch({
        planId: v.planId,
        count: text(v, 'count'),
        prefix: text(v, 'prefix'),
        length: text(v, 'length'),
        charset: text(v, 'charset') as 'mixed' | undefined,
        validityFrom: text(v, 'validityFrom') as 'sale' | undefined,
      });
      return { notice: `Batch ${b.id}: ${b.count} vouchers of ${b.planName} made and on their way to the router.`, batchId: b.id };
    }),
  revoke: (e) => act(e, 'revoke', async (api, v) => `Voucher ${(await api.vouchers.revoke(v.id ?? '')).code} revoked: it comes off the router.`),
};
