/**
 * The controller calls of the network screens: sites and their agents, routers (with adoption of
 * what a router already holds and its hotspot sessions), address pools, and the provisioning log.
 */
import { error } from '@sveltejs/kit';
import {
  AdoptRequest,
  AdoptResult,
  AdoptionScanView,
  AvailableIps,
  CreatePoolRequest,
  CreateRouterRequest,
  CreateSiteRequest,
  EnrollmentTokenView,
  HotspotSessionView,
  JobView,
  PlanFromProfileRequest,
  PlanView,
  PoolView,
  RouterView,
  SiteView,
  UpdatePoolRequest,
  listOf,
} from '@mtandao/protocol/api';
import type { JobStatus } from '@mtandao/protocol';
import { ApiError, Ok, enc, qs, type ControllerClient, type In } from './client';

/** Filters of the provisioning log. */
export type JobQuery = {
  customerId?: string;
  customerUsername?: string;
  routerId?: string;
  siteId?: string;
  status?: JobStatus;
  since?: string;
  until?: string;
  afterId?: string;
  page?: number;
  pageSize?: number;
};

export const sitesApi = (c: ControllerClient) => ({
  list: () => c.read('/sites', listOf(SiteView)),
  create: (body: In<typeof CreateSiteRequest>) => c.call('POST', '/sites', SiteView, body),
  enrollmentToken: (siteId: string) => c.call('POST', `/sites/${enc(siteId)}/enrollment-tokens`, EnrollmentTokenView),
  retireAgent: (siteId: string) => c.call('DELETE', `/sites/${enc(siteId)}/agent`, Ok),
});

export const routersApi = (c: ControllerClient) => ({
  list: () => c.read('/routers', listOf(RouterView)),
  create: (body: In<typeof CreateRouterRequest>) => c.call('POST', '/routers', RouterView, body),
  reconcile: (id: string) => c.call('POST', `/routers/${enc(id)}/reconcile`, JobView),
});

export const adoptionApi = (c: ControllerClient) => ({
  scan: (routerId: string) => c.call('POST', `/routers/${enc(routerId)}/adoption-scan`, AdoptionScanView),
  /** The latest scan, or null before the first. */
  latest: async (routerId: string) => {
    try {
      return await c.call('GET', `/routers/${enc(routerId)}/adoption-scan`, AdoptionScanView);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404 && /not been scanned/.test(err.message)) return null;
      if (err instanceof ApiError) error(err.status, err.message);
      throw err;
    }
  },
  adopt: (routerId: string, body: In<typeof AdoptRequest>) => c.call('POST', `/routers/${enc(routerId)}/adopt`, AdoptResult, body),
  planFromProfile: (routerId: string, body: In<typeof PlanFromProfileRequest>) =>
    c.call('POST', `/routers/${enc(routerId)}/adoption-scan/plans`, PlanView, body),
});

export const hotspotApi = (c: ControllerClient) => ({
  active: (routerId: string) => c.read(`/routers/${enc(routerId)}/hotspot/active`, listOf(HotspotSessionView)),
  refresh: (routerId: string) => c.call('POST', `/routers/${enc(routerId)}/hotspot/refresh`, JobView),
});

export const poolsApi = (c: ControllerClient) => ({
  list: () => c.read('/pools', listOf(PoolView)),
  get: (id: string) => c.read(`/pools/${enc(id)}`, PoolView),
  create: (body: In<typeof CreatePoolRequest>) => c.call('POST', '/pools', PoolView, body),
  update: (id: string, body: In<typeof UpdatePoolRequest>) => c.call('PATCH', `/pools/${enc(id)}`, PoolView, body),
});

export const networksApi = (c: ControllerClient) => ({
  availableIps: (id: string, query: { prefix?: string; limit?: number }) => c.read(`/networks/${enc(id)}/available-ips${qs(query)}`, AvailableIps),
});

export const jobsApi = (c: ControllerClient) => ({
  list: (query: JobQuery) => c.read(`/provisioning/jobs${qs(query)}`, listOf(JobView)),
  get: (id: string) => c.read(`/provisioning/jobs/${enc(id)}`, JobView),
});
