import { z } from 'zod';
import { ImportDryRun, ImportStatusView } from '@mtandao/protocol/api';
import type { Services } from '../container.ts';
import { AppError } from '../errors.ts';
import { route } from '../http/route.ts';
import { fileFromUpload, MAX_IMPORT_BYTES } from '../lib/csv-file.ts';
import { IdParams, meta } from './helpers.ts';

const tooLarge = `The file is too large: at most ${MAX_IMPORT_BYTES / 1024 / 1024} MB in one import; split it`;

/** Import Customers from a CSV (help/import-customers.md, SPEC section 13). */
export function importRoutes(s: Services) {
  return [
    route({
      method: 'get',
      path: '/imports/template.csv',
      tag: 'Imports',
      access: 'read',
      summary: 'The import template: the header row of the columns the import expects',
      handler: async () => s.imports.template(),
    }),
    route({
      method: 'post',
      path: '/imports/customers',
      tag: 'Imports',
      access: 'write',
      status: 201,
      summary:
        'Upload a CSV (the body as text/csv, or a multipart form with one file): a dry run that checks every row and creates nothing; commit it with POST /imports/:id/commit',
      response: ImportDryRun,
      handler: async (ctx) => {
        const upload = ctx.upload;
        if (upload?.tooLarge) throw new AppError(422, tooLarge, { field: 'file', issues: [{ field: 'file', message: tooLarge }] });
        return s.imports.dryRun(meta(ctx), await fileFromUpload(upload?.contentType, upload?.bytes));
      },
    }),
    route({
      method: 'post',
      path: '/imports/:id/commit',
      tag: 'Imports',
      access: 'write',
      status: 202,
      params: IdParams,
      response: ImportStatusView,
      summary: 'Import the good rows of a dry run, in the background (follow GET /imports/:id); bad rows are skipped',
      handler: async (ctx) => s.imports.commit(meta(ctx), ctx.params.id),
    }),
    route({
      method: 'get',
      path: '/imports/:id',
      tag: 'Imports',
      access: 'read',
      summary: 'Where an import is: status, processed, created, failed',
      params: IdParams,
      response: ImportStatusView,
      handler: async (ctx) => s.imports.status(ctx.params.id),
    }),
    route({
      method: 'get',
      path: '/imports/:id/errors.csv',
      tag: 'Imports',
      access: 'write',
      params: IdParams,
      query: z.object({}),
      summary: 'The rows that were not imported, with an error column: fix them and import this file again',
      handler: async (ctx) => s.imports.failures(ctx.params.id),
    }),
  ];
}
