import { error } from '@sveltejs/kit';
import { Role } from '@mtandao/protocol';
import { act, text } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, parent }) => {
  const { user } = await parent();
  if (user.role !== 'admin') error(403, 'Only an admin manages staff accounts');
  return { users: (await locals.api.users.list()).items };
};

const ROLE_LABEL = { admin: 'Admin', staff: 'Staff', noc: 'NOC (read-only)' } as const;

export const actions: Actions = {
  create: (e) =>
    act(e, 'create', async (api, v) => {
      const u = await api.users.create({
        username: text(v, 'username'),
        fullName: text(v, 'fullName'),
        role: Role.safeParse(v.role).data,
        password: v.password ?? '',
      });
      return `${u.username} can sign in now, as ${ROLE_LABEL[u.role]}.`;
    }),
  role: (e) =>
    act(e, 'role', async (api, v) => {
      const u = await api.users.update(v.id ?? '', { role: Role.safeParse(v.role).data });
      return `${u.username} is now ${ROLE_LABEL[u.role]}; their sessions were ended.`;
    }),
  disable: (e) => act(e, 'disable', async (api, v) => `${(await api.users.update(v.id ?? '', { disabled: true })).username} can no longer sign in.`),
  enable: (e) => act(e, 'enable', async (api, v) => `${(await api.users.update(v.id ?? '', { disabled: false })).username} can sign in again.`),
  password: (e) =>
    act(
      e,
      'password',
      async (api, v) => `New password set for ${(await api.users.update(v.id ?? '', { password: v.password ?? '' })).username}; their sessions were ended.`,
    ),
  remove: (e) =>
    act(e, 'remove', async (api, v) => {
      await api.users.remove(v.id ?? '');
      return `${v.username ?? 'The account'} was deleted.`;
    }),
};
