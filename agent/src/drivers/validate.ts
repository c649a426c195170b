/**
 * The shapes a driver accepts for what it writes unquoted or as a key: menu paths, property names,
 * item ids. Values are never checked here (any string may be a value); only these, since a name
 * like `name=x` or an id like `*1 password=y` would change the command itself.
 */
import { RouterError } from './types.ts';

const MENU = /^(\/[a-z0-9-]+)+$/;
const NAME = /^\.?[a-z0-9][a-z0-9.-]*$/;
const ID = /^\*[0-9A-F]+$/;

/** A value the driver refuses before sending anything. */
export function invalid(message: string, cause?: unknown): RouterError {
  return new RouterError('invalid', message, { retryable: false, cause });
}

/** A menu path: `/ppp/secret`. */
export function checkMenu(menu: string): string {
  if (!MENU.test(menu)) throw invalid(`not a menu path: ${JSON.stringify(menu)}`);
  return menu;
}

/** A property name: `remote-address`, `.id`. */
export function checkName(name: string): string {
  if (!NAME.test(name)) throw invalid(`not a property name: ${JSON.stringify(name)}`);
  return name;
}

/** An item id: `*1A`. */
export function checkId(id: string): string {
  if (!ID.test(id)) throw invalid(`not an item id: ${JSON.stringify(id)}`);
  return id;
}

/** A proplist that always brings the id along. */
export function withId(proplist: readonly string[]): string[] {
  return ['.id', ...proplist.filter((p) => p !== '.id')].map(checkName);
}
