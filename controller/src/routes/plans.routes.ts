import { CreatePlanRequest, NetworkView, PlanListQuery, PlanView, UpdatePlanRequest, listOf } from '@mtandao/protocol/api';
import type { Services } from '../container.ts';
import { route } from '../http/route.ts';
import { IdParams, meta, Ok, done } from './helpers.ts';

export function planRoutes(s: Services) {
  return [
    route({ method: 'get', path: '/plans', tag: 'Plans', access: 'read', summary: 'Internet plans; `?connectionType=` filters', query: PlanListQuery, response: listOf(PlanView), handler: async (ctx) => s.plans.list(ctx.query) }),
    route({ method: 'post', path: '/plans', tag: 'Plans', access: 'write', status: 201, summary: 'Create a plan', body: CreatePlanRequest, response: PlanView, handler: async (ctx) => s.plans.create(meta(ctx), ctx.body) }),
    route({ method: 'get', path: '/plans/:id', tag: 'Plans', access: 'read', summary: 'One plan', params: IdParams, response: PlanView, handler: async (ctx) => s.plans.get(ctx.params.id) }),
    route({
      method: 'patch', path: '/plans/:id', tag: 'Plans', access: 'write', summary: 'Change a plan; profile changes fan out to every router carrying it', params: IdParams, body: UpdatePlanRequest, response: PlanView,
      handler: async (ctx) => s.plans.update(meta(ctx), ctx.params.id, ctx.body),
    }),
    route({
      method: 'delete', path: '/plans/:id', tag: 'Plans', access: 'write', summary: 'Delete a plan without customers', params: IdParams, response: Ok,
      handler: async (ctx) => done(s.plans.remove(meta(ctx), ctx.params.id)),
    }),
    route({ method: 'post', path: '/plans/:id/archive', tag: 'Plans', access: 'write', summary: 'Archive a plan: hidden from new customers, kept for existing ones', params: IdParams, response: PlanView, handler: async (ctx) => s.plans.setArchived(meta(ctx), ctx.params.id, true) }),
    route({ method: 'post', path: '/plans/:id/unarchive', tag: 'Plans', access: 'write', summary: 'Offer an archived plan to new customers again', params: IdParams, response: PlanView, handler: async (ctx) => s.plans.setArchived(meta(ctx), ctx.params.id, false) }),
    route({
      method: 'get', path: '/plans/:id/networks', tag: 'Plans', access: 'read', summary: 'The network blocks a customer on this plan may use', params: IdParams, response: listOf(NetworkView),
      handler: async (ctx) => s.pools.networksOfPools((await s.plans.get(ctx.params.id)).poolIds),
    }),
  ];
}
