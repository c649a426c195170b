import { AdoptionScanView, AdoptRequest, AdoptResult, PlanFromProfileRequest, PlanView } from '@mtandao/protocol/api';
import type { Services } from '../container.ts';
import { route } from '../http/route.ts';
import { IdParams, meta } from './helpers.ts';

/** Import from router (SPEC section 13): scan, review, adopt. */
export function adoptionRoutes(s: Services) {
  return [
    route({
      method: 'post',
      path: '/routers/:id/adoption-scan',
      tag: 'Routers',
      access: 'write',
      status: 202,
      params: IdParams,
      response: AdoptionScanView,
      summary:
        "Ask the router's agent to read the entries Mtandao does not manage (PPP secrets and profiles, hotspot users and profiles, simple queues); follow it with GET",
      handler: async (ctx) => s.adoption.scan(meta(ctx), ctx.params.id),
    }),
    route({
      method: 'get',
      path: '/routers/:id/adoption-scan',
      tag: 'Routers',
      access: 'read',
      params: IdParams,
      response: AdoptionScanView,
      summary: 'The latest adoption scan: what it found (passwords never shown), grouped by profile, with a suggested plan per profile by rate limit',
      handler: async (ctx) => s.adoption.latest(ctx.params.id),
    }),
    route({
      method: 'post',
      path: '/routers/:id/adopt',
      tag: 'Routers',
      access: 'write',
      params: IdParams,
      body: AdoptRequest,
      response: AdoptResult,
      summary:
        'Adopt scanned entries as customers (keeping their router passwords and addresses) on the plan chosen per profile; the entries are then marked, nothing else on them changes',
      handler: async (ctx) => s.adoption.adopt(meta(ctx), ctx.params.id, ctx.body),
    }),
    route({
      method: 'post',
      path: '/routers/:id/adoption-scan/plans',
      tag: 'Routers',
      access: 'write',
      status: 201,
      params: IdParams,
      body: PlanFromProfileRequest,
      response: PlanView,
      summary: "Create a plan from a scanned router profile: its rate limit becomes the plan's speeds",
      handler: async (ctx) => s.adoption.planFromProfile(meta(ctx), ctx.params.id, ctx.body),
    }),
  ];
}
