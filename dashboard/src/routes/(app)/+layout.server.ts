import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = async ({ locals }) => {
  const [user, settings] = await Promise.all([locals.api.me(), locals.api.settings.get()]);
  return {
    user,
    /** What every screen needs to show money and times the ISP's way. */
    settings: { timezone: settings.timezone, currency: settings.currency, companyName: settings.companyName },
    canWrite: user.role !== 'noc',
  };
};
