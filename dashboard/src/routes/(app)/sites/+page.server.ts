import { config } from '$lib/server/config';
import { act } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, depends }) => {
  depends('app:sites');
  const [sites, routers] = await Promise.all([locals.api.sites.list(), locals.api.routers.list()]);
  return { sites: sites.items, routers: routers.items, agentImage: config.agentImage };
};

export const actions: Actions = {
  createSite: (e) => act(e, 'createSite', async (api, v) => `Site “${(await api.sites.create({ name: v.name ?? '' })).name}” added. Enrol its agent next.`),
  createRouter: (e) =>
    act(e, 'createRouter', async (api, v) => {
      const router = await api.routers.create({ name: v.name ?? '', siteId: v.siteId ?? '', host: v.host?.trim() || undefined });
      return `Router “${router.name}” added. Its address and login go in the agent’s config file at the site, under the same name.`;
    }),
  enrollmentToken: (e) => act(e, 'enrollmentToken', async (api, v) => ({ siteId: v.siteId, enrollment: await api.sites.enrollmentToken(v.siteId ?? '') })),
  retireAgent: (e) =>
    act(
      e,
      'retireAgent',
      async (api, v) => (await api.sites.retireAgent(v.siteId ?? ''), 'Agent retired: its key no longer works. Enrol a new one to serve the site.'),
    ),
  reconcile: (e) =>
    act(e, 'reconcile', async (api, v) => {
      const job = await api.routers.reconcile(v.routerId ?? '');
      return { notice: `Reconcile of ${job.routerName} queued (job #${job.id}).`, jobId: job.id };
    }),
};
