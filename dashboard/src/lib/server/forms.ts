import { fail, type ActionFailure } from '@sveltejs/kit';
import { ApiError, type Controller } from './api';

/** What a form posted, as text, by field name (dotted names follow the API body: `payment.method`). */
export type Values = Record<string, string>;
/** Messages by field name; `_form` for a refusal that names no field. */
export type FieldErrors = Record<string, string>;
/** What an action answers when the controller refused: the page shows each message at its field. */
export type Failure = { values: Values; errors: FieldErrors; message: string };

/** The text fields of a form (files and repeated names aside: read those with `getAll`). */
export function formValues(form: FormData): Values {
  const values: Values = {};
  for (const [k, v] of form) if (typeof v === 'string' && !(k in values)) values[k] = v;
  return values;
}

/** The text of a field, trimmed; undefined when blank. */
export function text(values: Values, name: string): string | undefined {
  const v = values[name]?.trim();
  return v ? v : undefined;
}

/** Whether a checkbox was ticked. */
export const checked = (values: Values, name: string): boolean => values[name] === 'on' || values[name] === 'true';

/** Turns a refusal of the controller into the action's failure, its messages placed at their fields. */
export function failure<Extra extends Record<string, unknown>>(err: unknown, values: Values, extra?: Extra): ActionFailure<Failure & Extra> {
  if (!(err instanceof ApiError)) throw err;
  const errors: FieldErrors = {};
  // an item of a list (`networks.1`) is shown at the list's one field
  const add = (field: string, message: string) => (errors[field.replace(/\.\d+(\..*)?$/, '')] ??= message);
  for (const issue of err.issues) add(issue.field, issue.message);
  if (err.field && err.field !== 'body') add(err.field, err.message);
  if (Object.keys(errors).length === 0) errors._form = err.message;
  return fail(err.status, { values, errors, message: err.message, ...(extra ?? ({} as Extra)) });
}

/**
 * One named action of a page with several: runs `run` with the posted values, answers
 * `{action, notice}` (plus what `run` returns) on success and the refusal, at its fields, on failure.
 * `action` tells the page which of its forms the answer belongs to.
 */
export async function act<Out extends Record<string, unknown>>(
  event: { request: Request; locals: { api: Controller } },
  action: string,
  run: (api: Controller, values: Values) => Promise<string | Out>,
) {
  const values = formValues(await event.request.formData());
  try {
    const out = await run(event.locals.api, values);
    return typeof out === 'string' ? { action, notice: out } : { action, notice: '', ...out };
  } catch (err) {
    return failure(err, values, { action });
  }
}
