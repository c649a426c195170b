import fc from 'fast-check';
import { z } from 'zod';
import type { RouteDef } from '../../src/http/route.ts';

type Json = Record<string, unknown>;

/** The JSON Schema of a zod schema as the API reads it (what OpenAPI publishes). */
function jsonSchema(s: z.ZodType): Json {
  try {
    return z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Json;
  } catch {
    return {};
  }
}

/** Values no schema wants: wrong types, extremes, NUL, deep nesting, prototype keys. */
export const garbage: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    null,
    true,
    false,
    0,
    -1,
    1e308,
    -1e308,
    2 ** 53 + 1,
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '\u202e💥ñ',
    '999999999999999999999',
    '1e400',
    'NaN',
    '-0',
    "'; DROP TABLE customers; --",
    '10.64.0.0/8',
    '0.0.0.0',
    '255.255.255.255',
    '::1',
    '2026-13-45',
    '__proto__',
    'x'.repeat(5000),
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.bigInt().map(String),
  fc.jsonValue({ maxDepth: 3 }),
  fc.constant({ __proto__: { admin: true } }),
  fc.constant(JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}') as unknown),
);

/** An arbitrary following a JSON Schema, each value now and then swapped for garbage. */
export function fromSchema(schema: Json, depth = 0): fc.Arbitrary<unknown> {
  const valid = strict(schema, depth);
  return fc.oneof({ weight: 5, arbitrary: valid }, { weight: 1, arbitrary: garbage });
}

function strict(s: Json, depth: number): fc.Arbitrary<unknown> {
  if (depth > 6) return garbage;
  const alts = (s.anyOf ?? s.oneOf) as Json[] | undefined;
  if (alts?.length) return fc.oneof(...alts.map((a) => fromSchema(a, depth + 1)));
  if ('const' in s) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]));
  const type = s.type;
  if (Array.isArray(type)) return fc.oneof(...type.map((t) => strict({ ...s, type: t }, depth)));
  switch (type) {
    case 'object': {
      const props = (s.properties ?? {}) as Record<string, Json>;
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(props)) record[k] = fromSchema(v, depth + 1);
      const required = ((s.required ?? []) as string[]).filter((k) => k in record);
      const base = fc.record(record, { requiredKeys: required });
      // now and then a required field goes missing or an unknown one appears
      return fc.oneof(
        { weight: 6, arbitrary: base },
        {
          weight: 1,
          arbitrary: fc.tuple(base, fc.constantFrom(...(Object.keys(record).length ? Object.keys(record) : ['x']))).map(([o, k]) => {
            const c = { ...(o as Json) };
            delete c[k];
            return c;
          }),
        },
        { weight: 1, arbitrary: fc.tuple(base, fc.string({ maxLength: 10 }), garbage).map(([o, k, v]) => ({ ...(o as Json), [k]: v })) },
      );
    }
    case 'array':
      return fc.array(s.items ? fromSchema(s.items as Json, depth + 1) : garbage, { maxLength: Math.min(Number(s.maxItems ?? 4), 4) });
    case 'string': {
      const maxLength = Math.min(Number(s.maxLength ?? 40), 60);
      const minLength = Math.min(Number(s.minLength ?? 0), maxLength);
      if (typeof s.pattern === 'string') {
        try {
          return fc.oneof(
            fc.stringMatching(new RegExp(s.pattern)).filter((v) => v.length <= Number(s.maxLength ?? Infinity)),
            fc.string({ minLength, maxLength }),
          );
        } catch {
          // a pattern fast-check cannot run: plain strings
        }
      }
      if (s.format === 'email') return fc.emailAddress();
      if (s.format === 'date-time') return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
      return fc.oneof(
        fc.string({ minLength, maxLength }),
        fc.stringMatching(/^[0-9]{1,12}$/),
        fc.stringMatching(/^[0-9]{1,7}(\.[0-9]{1,2})?$/),
        fc.stringMatching(/^07[0-9]{8}$/),
        fc.stringMatching(/^10\.64\.[0-9]{1,3}\.[0-9]{1,3}(\/[0-9]{1,2})?$/),
      );
    }
    case 'integer': {
      const min = Math.max(Number(s.minimum ?? -1e9), -Number.MAX_SAFE_INTEGER);
      const max = Math.min(Number(s.maximum ?? 1e9), Number.MAX_SAFE_INTEGER);
      return fc.oneof(fc.integer({ min: Math.ceil(Math.max(min, -(2 ** 31))), max: Math.floor(Math.min(max, 2 ** 31 - 1)) }), fc.constantFrom(min, max));
    }
    case 'number':
      return fc.oneof(fc.double({ noNaN: true, min: Number(s.minimum ?? -1e12), max: Number(s.maximum ?? 1e12) }), fc.integer({ min: -1000, max: 100_000 }));
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default:
      return garbage;
  }
}

/** One request against a route. */
export interface FuzzCase {
  path: string;
  query: string;
  body: string | undefined;
  headers: Record<string, string>;
}

const jsonText = (v: unknown) => JSON.stringify(v) ?? 'null';

/** Requests for a route: params, query and body from its schemas, or plain garbage. */
export function casesFor(r: RouteDef, ids: string[]): fc.Arbitrary<FuzzCase> {
  const idArb = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...ids) },
    {
      weight: 1,
      arbitrary: fc.oneof(
        fc.constantFrom('0', '-1', '1.5', 'abc', '99999999999999999999', '9223372036854775808', '%00', '1%20OR%201=1'),
        fc.string({ maxLength: 20 }).map(encodeURIComponent),
      ),
    },
  );
  const pathArb = r.path.includes(':')
    ? fc.array(idArb, { minLength: 3, maxLength: 3 }).map((vs) => {
        let i = 0;
        return r.path.replace(/:(\w+)/g, () => vs[i++]!);
      })
    : fc.constant(r.path);

  const qs = r.query ? jsonSchema(r.query) : { type: 'object', properties: {} };
  const queryArb = fc
    .oneof({ weight: 4, arbitrary: fromSchema(qs) }, { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), garbage, { maxKeys: 3 }) })
    .map((q) => {
      if (!q || typeof q !== 'object' || Array.isArray(q)) return '';
      const p = new URLSearchParams();
      for (const [k, v] of Object.entries(q as Json)) {
        if (Array.isArray(v)) for (const x of v) p.append(k, typeof x === 'string' ? x : jsonText(x));
        else if (v !== undefined) p.append(k, typeof v === 'string' ? v : jsonText(v));
      }
      const s = p.toString();
      return s ? `?${s}` : '';
    });

  const bodySchema = r.body ? jsonSchema(r.body) : { type: 'object', properties: {} };
  const bodyArb: fc.Arbitrary<string | undefined> =
    r.method === 'get'
      ? fc.constant(undefined) // fetch sends no body with a GET
      : r.method === 'delete'
        ? fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: garbage.map(jsonText) })
        : fc.oneof(
            { weight: 8, arbitrary: fromSchema(bodySchema).map(jsonText) },
            { weight: 1, arbitrary: garbage.map(jsonText) },
            {
              weight: 1,
              arbitrary: fc.oneof(
                fc.string({ maxLength: 30 }),
                fc.constantFrom(
                  '{"a":',
                  '{"a":1}{"b":2}',
                  '[',
                  '"\\u0000"',
                  '{"x":"\\ud800"}',
                  `${'['.repeat(40)}${']'.repeat(40)}`,
                  `{"name":${'{"a":'.repeat(33)}1${'}'.repeat(33)}}`,
                ),
              ),
            },
          );
  const headersArb = fc
    .record({
      type: fc.constantFrom(
        'application/json',
        'application/json',
        'application/json',
        'text/plain',
        'application/json; charset=latin1',
        'application/x-www-form-urlencoded',
      ),
      key: fc.oneof(
        { weight: 3, arbitrary: fc.constant(undefined) },
        { weight: 2, arbitrary: fc.constantFrom('k1', 'k2', 'k3') },
        { weight: 1, arbitrary: fc.stringMatching(/^[ -~]{0,300}$/) },
      ),
    })
    .map(({ type, key }) => ({ 'content-type': type, ...(key !== undefined && r.method === 'post' ? { 'idempotency-key': key } : {}) }));

  return fc.record({ path: pathArb, query: queryArb, body: bodyArb, headers: headersArb });
}
