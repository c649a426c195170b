import type { Controller } from '$lib/server/api';

declare global {
  namespace App {
    interface Locals {
      /** The controller API, called with this request's staff session. */
      api: Controller;
    }
    interface Error {
      message: string;
    }
  }
}

export {};
