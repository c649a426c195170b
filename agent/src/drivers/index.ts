/**
 * Opens the driver a router's transport asks for. Every driver implements {@link RouterClient}, so
 * the desired-state logic in ../reconcile is written once for all of them.
 */
import type { Logger } from 'pino';
import { RouterOsApiClient, type ApiClientOptions } from './routeros-api/client.ts';
import { RouterOsSshClient, type SshClientOptions } from './ssh/client.ts';
import type { RouterClient, RouterConfig } from './types.ts';

export { RouterError, type PrintOptions, type RouterClient, type RouterConfig, type RouterErrorCategory, type RouterRow } from './types.ts';
export { RouterOsApiClient, type ApiClientOptions } from './routeros-api/client.ts';
export { RouterOsSshClient, type SshClientOptions } from './ssh/client.ts';

/** Driver tuning, per transport. */
export interface OpenRouterOptions {
  api?: Omit<ApiClientOptions, 'logger'>;
  ssh?: Omit<SshClientOptions, 'logger'>;
}

/** A client for one router: the API driver for `api` and `api-ssl`, the SSH driver for `ssh`. */
export function openRouter(config: RouterConfig, logger?: Logger, options: OpenRouterOptions = {}): RouterClient {
  switch (config.transport) {
    case 'api':
    case 'api-ssl':
      return new RouterOsApiClient(config, { ...options.api, ...(logger ? { logger } : {}) });
    case 'ssh':
      return new RouterOsSshClient(config, { ...options.ssh, ...(logger ? { logger } : {}) });
  }
}
