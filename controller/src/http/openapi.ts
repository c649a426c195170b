import { z } from 'zod';
import { ErrorBody } from '@mtandao/protocol/api';
import type { RouteDef } from './route.ts';

type Json = Record<string, unknown>;

function schema(s: z.ZodType, io: 'input' | 'output'): Json {
  try {
    const out = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Json;
    delete out.$schema;
    return out;
  } catch {
    return {};
  }
}

/** OpenAPI 3.1 generated from the route table and the same zod schemas that validate requests. */
export function buildOpenApi(routes: RouteDef[], serverUrl: string): Json {
  const paths: Record<string, Json> = {};
  const errorRef = { $ref: '#/components/schemas/Error' };
  for (const r of routes) {
    const path = r.path.replace(/:(\w+)/g, '{$1}');
    const parameters: Json[] = [];
    for (const m of r.path.matchAll(/:(\w+)/g)) parameters.push({ name: m[1], in: 'path', required: true, schema: { type: 'string' } });
    if (r.query) {
      const q = schema(r.query, 'input') as { properties?: Record<string, Json>; required?: string[] };
      for (const [name, s] of Object.entries(q.properties ?? {}))
        parameters.push({ name, in: 'query', required: q.required?.includes(name) ?? false, schema: s });
    }
    const op: Json = {
      summary: r.summary,
      tags: [r.tag],
      operationId: `${r.method}${r.path.replace(/[/:-](\w)/g, (_m, c: string) => c.toUpperCase())}`,
      'x-access': r.access,
      security: r.access === 'public' ? [] : [{ session: [] }, { bearer: [] }],
      parameters,
      responses: {
        [String(r.status ?? 200)]: { description: 'Success', content: { 'application/json': { schema: r.response ? schema(r.response, 'output') : {} } } },
        ...(r.access !== 'public'
          ? {
              401: { description: 'Not signed in', content: { 'application/json': { schema: errorRef } } },
              403: { description: 'Role not allowed or cross-origin', content: { 'application/json': { schema: errorRef } } },
            }
          : {}),
        404: { description: 'Not found', content: { 'application/json': { schema: errorRef } } },
        409: { description: 'Conflict', content: { 'application/json': { schema: errorRef } } },
        422: { description: 'Invalid input, naming the field', content: { 'application/json': { schema: errorRef } } },
      },
    };
    if (r.body) op.requestBody = { required: true, content: { 'application/json': { schema: schema(r.body, 'input') } } };
    paths[path] = { ...(paths[path] ?? {}), [r.method]: op };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Mtandao API',
      version: '1',
      description: 'Provisioning and billing for ISPs running MikroTik routers. Amounts are decimal strings of the major unit; ids are strings.',
    },
    servers: [{ url: `${serverUrl.replace(/\/$/, '')}/api/v1` }],
    paths,
    components: {
      schemas: { Error: schema(ErrorBody, 'output') },
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'mtandao_session' },
        bearer: { type: 'http', scheme: 'bearer' },
      },
    },
  };
}
