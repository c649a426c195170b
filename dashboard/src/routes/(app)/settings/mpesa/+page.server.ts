import { error } from '@sveltejs/kit';
import { MpesaEnvironment, MpesaShortcodeType, MpesaValidationPolicy } from '@mtandao/protocol/api';
import { act, text } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, parent }) => {
  const { user } = await parent();
  if (user.role !== 'admin') error(403, 'Only an admin can see the M-Pesa settings');
  return { mpesa: await locals.api.mpesa.settings() };
};

export const actions: Actions = {
  save: (e) =>
    act(e, 'save', async (api, v) => {
      const ips = (v.allowedIps ?? '').split(/[\s,]+/).filter(Boolean);
      await api.mpesa.updateSettings({
        environment: MpesaEnvironment.safeParse(v.environment).data,
        shortcodeType: MpesaShortcodeType.safeParse(v.shortcodeType).data,
        shortcode: text(v, 'shortcode'),
        tillNumber: text(v, 'tillNumber') ?? null,
        // write-only: blank keeps the one set
        consumerKey: text(v, 'consumerKey'),
        consumerSecret: text(v, 'consumerSecret'),
        passkey: text(v, 'passkey'),
        validationPolicy: MpesaValidationPolicy.safeParse(v.validationPolicy).data,
        allowedIps: ips,
        callbackBaseUrl: text(v, 'callbackBaseUrl') ?? null,
      });
      return 'M-Pesa settings saved.';
    }),
  register: (e) =>
    act(e, 'register', async (api) => {
      const r = await api.mpesa.registerUrls();
      return { notice: r.ok ? `Registered with M-Pesa: ${r.message}` : '', registration: { ok: r.ok, message: r.message, answer: JSON.stringify(r.answer) } };
    }),
  regenerate: (e) => act(e, 'regenerate', async (api) => (await api.mpesa.regenerateToken(), 'New callback URLs made: register them with M-Pesa again.')),
};
