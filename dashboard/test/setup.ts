import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { dropTestDatabases } from '../../controller/test/helpers/database.ts';
import { launch } from './helpers/browser.ts';
import { run } from './helpers/run.ts';
import { dashboardDir, startStack } from './helpers/stack.ts';

/** Newest modification time under a path. */
function newest(p: string): number {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(p).map((f) => newest(path.join(p, f))));
}

/** The suite runs against the production build: build it once, unless it is newer than every source. */
export function mochaGlobalSetup() {
  const built = newest(path.join(dashboardDir, 'build/index.js'));
  const sources = ['src', 'entry', 'static', 'svelte.config.js', 'vite.config.ts', 'package.json', '../protocol/src'].map((p) =>
    newest(path.join(dashboardDir, p)),
  );
  if (built > Math.max(...sources) && !process.env.DASHBOARD_REBUILD) return;
  const started = Date.now();
  const r = spawnSync('npx', ['vite', 'build'], { cwd: dashboardDir, encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production' } });
  if (r.status !== 0) throw new Error(`the dashboard build failed:\n${r.stdout}\n${r.stderr}`);
  console.log(`  built the dashboard in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(120_000);
    run.stack = await startStack();
    run.browser = await launch();
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(30_000);
    await run.browser?.close();
    await run.stack?.stop();
    await dropTestDatabases();
  },
};
