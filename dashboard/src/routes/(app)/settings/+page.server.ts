import { SmsProvider } from '@mtandao/protocol/api';
import { failure, formValues, text } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => ({ full: await locals.api.settings.get() });

export const actions: Actions = {
  default: async ({ locals, request }) => {
    const v = formValues(await request.formData());
    const smsProvider = SmsProvider.safeParse(v.smsProvider).data;
    const atUsername = text(v, 'africastalking.username');
    try {
      await locals.api.settings.update({
        companyName: text(v, 'companyName'),
        paybillNumber: text(v, 'paybillNumber'),
        smsProvider,
        // the API key is write-only: blank keeps the one set
        africastalking:
          smsProvider === 'africastalking' || atUsername
            ? { username: atUsername ?? '', apiKey: text(v, 'africastalking.apiKey'), senderId: text(v, 'africastalking.senderId') ?? null }
            : undefined,
      });
    } catch (err) {
      return failure(err, v);
    }
    return { values: v, errors: {} as Record<string, string>, notice: 'Settings saved.' };
  },
};
