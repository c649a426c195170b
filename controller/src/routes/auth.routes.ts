import { z } from 'zod';
import { ApiTokenView, CreateApiTokenRequest, CreateUserRequest, LoginRequest, Me, UpdateUserRequest, UserView, listOf } from '@mtandao/protocol/api';
import type { Services } from '../container.ts';
import { HttpResult, route } from '../http/route.ts';
import { IdParams, meta, Ok, done } from './helpers.ts';

export function authRoutes(s: Services) {
  return [
    route({
      method: 'post',
      path: '/auth/login',
      tag: 'Auth',
      access: 'public',
      summary: 'Sign in; sets an HttpOnly session cookie',
      body: LoginRequest,
      response: z.object({ user: Me }),
      handler: async (ctx) => {
        const out = await s.auth.login({ ...ctx.body, previousSession: ctx.sessionToken, ip: ctx.ip, userAgent: ctx.userAgent, requestId: ctx.requestId });
        return new HttpResult({ user: out.user }, { setSession: { token: out.token, maxAgeMs: out.maxAgeMs } });
      },
    }),
    route({
      method: 'post',
      path: '/auth/logout',
      tag: 'Auth',
      access: 'read',
      summary: 'Sign out of this session',
      response: Ok,
      idempotent: false,
      handler: async (ctx) => {
        await s.auth.logout(ctx.sessionToken, meta(ctx));
        return new HttpResult({ ok: true }, { clearSession: true });
      },
    }),
    route({
      method: 'get',
      path: '/auth/me',
      tag: 'Auth',
      access: 'read',
      summary: 'The signed-in staff member',
      response: Me,
      handler: async (ctx) => s.auth.me(ctx.actor!.userId),
    }),
    route({
      method: 'get',
      path: '/auth/tokens',
      tag: 'Auth',
      access: 'read',
      summary: 'Your API tokens',
      response: listOf(ApiTokenView),
      handler: async (ctx) => s.auth.listTokens(ctx.actor!),
    }),
    route({
      method: 'post',
      path: '/auth/tokens',
      tag: 'Auth',
      access: 'read',
      status: 201,
      summary: 'Create an API token for `Authorization: Bearer` (shown once)',
      idempotent: false, // the answer holds the token: never kept for a replay
      body: CreateApiTokenRequest,
      response: ApiTokenView.extend({ token: z.string() }),
      handler: async (ctx) => {
        // noc may hold a read-only token; the token carries the role of its owner
        return s.auth.createToken(meta(ctx), ctx.body);
      },
    }),
    route({
      method: 'delete',
      path: '/auth/tokens/:id',
      tag: 'Auth',
      access: 'read',
      summary: 'Revoke one of your API tokens',
      params: IdParams,
      response: Ok,
      handler: async (ctx) => done(s.auth.revokeToken(meta(ctx), ctx.params.id)),
    }),
    route({
      method: 'get',
      path: '/users',
      tag: 'Users',
      access: 'admin',
      summary: 'Staff accounts',
      response: listOf(UserView),
      handler: async () => s.auth.listUsers(),
    }),
    route({
      method: 'post',
      path: '/users',
      tag: 'Users',
      access: 'admin',
      status: 201,
      summary: 'Create a staff account',
      body: CreateUserRequest,
      response: UserView,
      handler: async (ctx) => s.auth.createUser(meta(ctx), ctx.body),
    }),
    route({
      method: 'patch',
      path: '/users/:id',
      tag: 'Users',
      access: 'admin',
      summary: 'Change a staff account (role, password, disabled)',
      params: IdParams,
      body: UpdateUserRequest,
      response: UserView,
      handler: async (ctx) => s.auth.updateUser(meta(ctx), ctx.params.id, ctx.body),
    }),
    route({
      method: 'delete',
      path: '/users/:id',
      tag: 'Users',
      access: 'admin',
      summary: 'Delete a staff account',
      params: IdParams,
      response: Ok,
      handler: async (ctx) => done(s.auth.deleteUser(meta(ctx), ctx.params.id)),
    }),
  ];
}
