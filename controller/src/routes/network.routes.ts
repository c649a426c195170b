import { z } from 'zod';
import { EnrollRequest, EnrollResponse, ManagedEntry } from '@mtandao/protocol';
import {
  AvailableIpsQuery, AvailableIps, CreatePoolRequest, CreateRouterRequest, CreateSiteRequest, EnrollmentTokenView, OptionalId, NetworkView, PoolView, RouterView, SiteView,
  UpdatePoolRequest, UpdateRouterRequest, UpdateSiteRequest, listOf, JobView,
} from '@mtandao/protocol/api';
import type { Services } from '../container.ts';
import { route } from '../http/route.ts';
import { IdParams, meta, Ok, done } from './helpers.ts';

export function networkRoutes(s: Services) {
  return [
    route({ method: 'get', path: '/sites', tag: 'Sites', access: 'read', summary: 'Sites and their agents', response: listOf(SiteView), handler: async () => s.sites.listSites() }),
    route({ method: 'post', path: '/sites', tag: 'Sites', access: 'write', status: 201, summary: 'Create a site', body: CreateSiteRequest, response: SiteView, handler: async (ctx) => s.sites.createSite(meta(ctx), ctx.body) }),
    route({ method: 'patch', path: '/sites/:id', tag: 'Sites', access: 'write', summary: 'Rename a site', params: IdParams, body: UpdateSiteRequest, response: SiteView, handler: async (ctx) => s.sites.updateSite(meta(ctx), ctx.params.id, ctx.body) }),
    route({ method: 'delete', path: '/sites/:id', tag: 'Sites', access: 'write', summary: 'Delete a site without routers (its agent is retired)', params: IdParams, response: Ok, handler: async (ctx) => done(s.sites.deleteSite(meta(ctx), ctx.params.id)) }),
    route({
      method: 'post', path: '/sites/:id/enrollment-tokens', tag: 'Sites', access: 'admin', status: 201, summary: 'A one-time agent enrolment token and the command to run (admin: the agent it enrols takes over the site)',
      idempotent: false, // the answer holds the token: never kept for a replay
      params: IdParams, response: EnrollmentTokenView, handler: async (ctx) => s.sites.createEnrollmentToken(meta(ctx), ctx.params.id),
    }),
    route({
      method: 'delete', path: '/sites/:id/agent', tag: 'Sites', access: 'admin', summary: "Retire the site's agent: its key stops working and its connection is dropped",
      params: IdParams, response: Ok, handler: async (ctx) => done(s.sites.retireAgent(meta(ctx), ctx.params.id)),
    }),
    route({
      method: 'post', path: '/agents/enroll', tag: 'Agents', access: 'public', summary: 'An agent trades a one-time token and its Ed25519 public key for its identity',
      body: EnrollRequest, response: EnrollResponse, handler: async (ctx) => s.sites.enroll(ctx.body),
    }),
    route({
      method: 'get', path: '/routers', tag: 'Routers', access: 'read', summary: 'Routers and their health as agents report it',
      query: z.object({ siteId: OptionalId('Site') }), response: listOf(RouterView), handler: async (ctx) => s.sites.listRouters(ctx.query),
    }),
    route({ method: 'get', path: '/routers/:id', tag: 'Routers', access: 'read', summary: 'One router', params: IdParams, response: RouterView, handler: async (ctx) => s.sites.getRouter(ctx.params.id) }),
    route({
      method: 'post', path: '/routers/:id/reconcile', tag: 'Routers', access: 'write', status: 202, summary: 'Make the router match the desired state (touches only Mtandao-marked entries)',
      params: IdParams, response: JobView, handler: async (ctx) => s.routerOps.reconcile(meta(ctx), ctx.params.id),
    }),
    route({
      method: 'get', path: '/routers/:id/entries', tag: 'Routers', access: 'read', summary: "Read back the router's managed entries through its agent",
      params: IdParams, query: z.object({ offset: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(500).default(100) }),
      response: z.object({ entries: z.array(ManagedEntry), total: z.number(), jobId: z.string() }),
      handler: async (ctx) => s.routerOps.readback(meta(ctx), ctx.params.id, ctx.query),
    }),
    route({ method: 'patch', path: '/routers/:id', tag: 'Routers', access: 'write', summary: "Rename a router (match the agent's config) or change its host", params: IdParams, body: UpdateRouterRequest, response: RouterView, handler: async (ctx) => s.sites.updateRouter(meta(ctx), ctx.params.id, ctx.body) }),
    route({ method: 'delete', path: '/routers/:id', tag: 'Routers', access: 'write', summary: 'Delete a router no pool or plan uses', params: IdParams, response: Ok, handler: async (ctx) => done(s.sites.deleteRouter(meta(ctx), ctx.params.id)) }),
    route({ method: 'post', path: '/routers', tag: 'Routers', access: 'write', status: 201, summary: 'Register a router of a site (credentials stay in the agent config)', body: CreateRouterRequest, response: RouterView, handler: async (ctx) => s.sites.createRouter(meta(ctx), ctx.body) }),
    route({ method: 'get', path: '/pools', tag: 'Pools', access: 'read', summary: 'IP pools with utilisation', response: listOf(PoolView), handler: async () => s.pools.list() }),
    route({ method: 'post', path: '/pools', tag: 'Pools', access: 'write', status: 201, summary: 'Create a pool of network blocks', body: CreatePoolRequest, response: PoolView, handler: async (ctx) => s.pools.create(meta(ctx), ctx.body) }),
    route({ method: 'get', path: '/pools/:id', tag: 'Pools', access: 'read', summary: 'One pool', params: IdParams, response: PoolView, handler: async (ctx) => s.pools.get(ctx.params.id) }),
    route({
      method: 'patch', path: '/pools/:id', tag: 'Pools', access: 'write', summary: 'Change a pool (name, blocks, gateway, reserved ranges)', params: IdParams, body: UpdatePoolRequest, response: PoolView,
      handler: async (ctx) => s.pools.update(meta(ctx), ctx.params.id, ctx.body),
    }),
    route({ method: 'get', path: '/networks', tag: 'Pools', access: 'read', summary: 'Every network block with utilisation', response: listOf(NetworkView), handler: async () => s.pools.listNetworks() }),
    route({
      method: 'get', path: '/networks/:id/available-ips', tag: 'Pools', access: 'read', summary: 'Available addresses of a block, filtered by a typed prefix',
      params: IdParams, query: AvailableIpsQuery, response: AvailableIps, handler: async (ctx) => s.ipam.availableIps(ctx.params.id, ctx.query),
    }),
  ];
}
