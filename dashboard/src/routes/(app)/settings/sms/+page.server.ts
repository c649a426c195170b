import { checked, failure, formValues } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => ({ sms: await locals.api.sms.templates() });

const KINDS = ['paymentDetails', 'paymentReceived', 'expiryReminder', 'expired', 'welcome'] as const;

export const actions: Actions = {
  default: async ({ locals, request }) => {
    const v = formValues(await request.formData());
    // "3, 1" → [3, 1]; anything that is not a whole number is passed on for the controller to name
    const days = (v.reminderDays ?? '')
      .split(/[\s,]+/)
      .filter(Boolean)
      .map((d) => (/^\d+$/.test(d) ? Number(d) : d));
    try {
      await locals.api.sms.updateTemplates({
        templates: Object.fromEntries(KINDS.map((k) => [k, v[`templates.${k}`] ?? ''])),
        reminderDays: days as number[],
        welcomeEnabled: checked(v, 'welcomeEnabled'),
        receiptsEnabled: checked(v, 'receiptsEnabled'),
      });
    } catch (err) {
      return failure(err, v);
    }
    return { values: v, errors: {} as Record<string, string>, notice: 'SMS templates saved.' };
  },
};
