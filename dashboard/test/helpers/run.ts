import type { Browser } from 'playwright-core';
import { signIn, type Session } from './browser.ts';
import type { Role, Stack } from './stack.ts';

/** The stack and browser of this run, started once by the root hooks in ../setup.ts. */
export const run: { stack: Stack; browser: Browser } = {} as { stack: Stack; browser: Browser };

let seq = 0;
/** A fresh, valid Kenyan mobile number and username stem for one test customer. */
export function person(stem: string) {
  const n = ++seq;
  const tag = `${Date.now().toString(36).slice(-4)}${n}`;
  return {
    fullName: `${stem} Test${n}`,
    phone: `07${String(20_000_000 + ((Date.now() + n * 7919) % 79_999_999)).padStart(8, '0')}`,
    username: `${stem.toLowerCase()}.${tag}`,
  };
}

/** Signs in as `role` before each test of the suite, and closes that browser context after it. */
export function sessionPerTest(role: Role): Session {
  const session = {} as Session;
  beforeEach(async () => Object.assign(session, await signIn(run.browser, run.stack, role)));
  afterEach(async () => session.context?.close());
  return session;
}
