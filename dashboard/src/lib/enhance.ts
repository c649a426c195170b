import type { SubmitFunction } from '@sveltejs/kit';

/**
 * The usual progressive enhancement of a form: on a refusal the form keeps what was typed (and
 * its messages show at their fields); on success it is cleared and any open action panel closes.
 */
export const keepOnFailure: SubmitFunction =
  () =>
  async ({ result, update }) => {
    await update({ reset: result.type === 'success' });
    if (result.type === 'success') for (const d of document.querySelectorAll<HTMLDetailsElement>('details.action[open]')) d.open = false;
  };
