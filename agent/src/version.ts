import { readFileSync } from 'node:fs';

/** This agent's version as announced in `hello` and enrolment (read once from the package manifest). */
export const AGENT_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
