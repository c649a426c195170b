// Packs the agent (scripts/agent-pack.mjs) and installs the tarball into a folder the way
// agent/Dockerfile's last stage does: production dependencies only, no optional native builds,
// no install scripts. Shared by scripts/agent-image.mjs and scripts/agent-footprint.ts.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The npm flags of the production install, here and in agent/Dockerfile. */
export const INSTALL_FLAGS = ['--omit=dev', '--omit=optional', '--ignore-scripts', '--no-audit', '--no-fund'];

/** Packs the agent into `dir` and installs it there; resolves the tarball, the tree and the installed bin. */
export function packAndInstall(dir, { offline = true } = {}) {
  const tarball = execFileSync(process.execPath, [path.join(root, 'scripts/agent-pack.mjs'), '--out', dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  const prefix = path.join(dir, 'app');
  mkdirSync(prefix, { recursive: true });
  writeFileSync(path.join(prefix, 'package.json'), '{"private":true}\n');
  execFileSync('npm', ['install', '--prefix', prefix, ...INSTALL_FLAGS, ...(offline ? ['--prefer-offline'] : []), tarball], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return { tarball, prefix, modules: path.join(prefix, 'node_modules'), bin: path.join(prefix, 'node_modules/.bin/mtandao-agent') };
}
