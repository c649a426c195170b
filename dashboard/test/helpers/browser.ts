import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { dashboardDir, eventually, USERS, type Role, type Stack } from './stack.ts';

/** Where screenshots go (gitignored); look at them after a run. */
export const OUTPUT_DIR = path.join(dashboardDir, 'test-output');

/** Debian's Chromium, headless. */
export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Phone width (the sidebar collapses). */
export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 860 };

export type Session = { context: BrowserContext; page: Page };

/** A browser context signed in as `role` through the login form. */
export async function signIn(
  browser: Browser,
  stack: Stack,
  role: Role,
  options: { javaScriptEnabled?: boolean; viewport?: { width: number; height: number }; baseURL?: string } = {},
): Promise<Session> {
  const context = await browser.newContext({
    baseURL: options.baseURL ?? stack.url,
    viewport: options.viewport ?? DESKTOP,
    javaScriptEnabled: options.javaScriptEnabled ?? true,
    timezoneId: 'Africa/Nairobi',
  });
  // a loaded machine (shared CI) may need longer: UI_TIMEOUT_MS
  context.setDefaultTimeout(Number(process.env.UI_TIMEOUT_MS) || 10_000);
  const page = await context.newPage();
  await page.goto('/login');
  await page.getByLabel('Username').fill(USERS[role].username);
  await page.getByLabel('Password').fill(USERS[role].password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.getByRole('button', { name: 'Sign in' }).click()]);
  return { context, page };
}

/** Saves a screenshot (the full page unless told) as test-output/<name>.png. */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<void> {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(OUTPUT_DIR, `${name}.png`), fullPage: options.fullPage ?? true, animations: 'disabled' });
}

/** Waits until the element's text satisfies `want` (a substring or a test); answers the text. */
export async function textOf(loc: Locator, want: string | RegExp | ((text: string) => boolean), timeoutMs = 10_000): Promise<string> {
  const test = typeof want === 'function' ? want : (t: string) => (typeof want === 'string' ? t.includes(want) : want.test(t));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = (
      (await loc
        .first()
        .textContent({ timeout: 1000 })
        .catch(() => null)) ?? ''
    )
      .replace(/\s+/g, ' ')
      .trim();
    if (test(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for text ${String(want)}; last seen: "${last.slice(0, 500)}"`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until an input's value satisfies `want`; answers the value. */
export async function valueOf(loc: Locator, want: (value: string) => boolean = (v) => v !== '', timeoutMs = 10_000): Promise<string> {
  return eventually(
    async () => {
      const v = await loc.inputValue({ timeout: 1000 }).catch(() => undefined);
      return v !== undefined && want(v) ? v : undefined;
    },
    'an input value',
    timeoutMs,
  );
}

/** The error shown at a field (`<id>-error`), waited for. */
export const fieldError = (page: Page, id: string, message: string) => textOf(page.locator(`#${id}-error`), message);

/** Opens an action's panel (Add Payment, Suspend…) on the customer page. */
export const openAction = (page: Page, label: string) => page.locator('summary', { hasText: new RegExp(`^${label}$`) }).click();

/**
 * Holds the page's scripts back until `hydrated()` is called, then lets them load and waits
 * until the page's own code has run: what a user does on a slow link before the page hydrates.
 */
export async function holdScripts(page: Page): Promise<{ hydrated: () => Promise<void> }> {
  let release!: () => void;
  const scripts = new Promise<void>((ok) => (release = ok));
  await page.route(/\/_app\/immutable\/.*\.js$/, async (r) => {
    await scripts;
    await r.continue();
  });
  return {
    hydrated: async () => {
      release();
      await page.waitForLoadState('load');
      await page.waitForFunction(() => performance.getEntriesByType('resource').some((e) => /\/_app\/immutable\/nodes\//.test(e.name)));
      // hydration follows the node's module a moment later
      await page.waitForTimeout(1500);
    },
  };
}
