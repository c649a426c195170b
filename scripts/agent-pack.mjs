#!/usr/bin/env node
// `node scripts/agent-pack.mjs [--out DIR]`: builds the agent and packs it as one installable npm
// tarball, mtandao-agent-<version>.tgz, with @mtandao/protocol bundled inside (a workspace that is
// on no registry), compiled JavaScript only: no TypeScript sources, tests, emulator or dev
// dependencies. `npm install ./mtandao-agent-<version>.tgz` then works in any folder.
// Its bin, bin/mtandao-agent.cjs, runs dist/mtandao-agent.cjs: the CLI and every dependency but
// ssh2 in one CommonJS file (esbuild), for the agent's memory (agent/README.md#footprint); dist/
// also keeps the compiled modules the package exports for in-process use.
// Prints the tarball's path on stdout (build output goes to stderr).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { out: { type: 'string', default: path.join(root, 'agent', 'pack') } } });
const out = path.resolve(values.out);
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status})`);
  return r.stdout;
}

/** Package exports without the TypeScript-source condition (the sources are not shipped). */
const compiledOnly = (map) => Object.fromEntries(Object.entries(map ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : v.default]));
/** Copies a dist folder without declaration files, source maps and tsc's build info. */
const copyDist = (from, to) => cpSync(from, to, { recursive: true, filter: (f) => !/\.d\.ts$|\.map$|\.tsbuildinfo$/.test(f) });

/**
 * The CLI as one CommonJS file, from the compiled dist/ (so it is the code tsc checked). ssh2 stays
 * a dependency, loaded on the first SSH connect (its WebAssembly crypto costs ~15 MB); ws's native
 * helpers are optional and absent. Whitespace and syntax are minified, names kept: log stack
 * traces stay readable. `import.meta.url` (agent/src/version.ts reads ../package.json by it) is
 * the bundle's own URL.
 */
async function bundleCli(outfile) {
  const { build } = await import('esbuild');
  const result = await build({
    stdin: {
      contents: "import { runCli } from './dist/cli.js';\nrunCli(process.argv.slice(2)).then((code) => { process.exitCode = code; });\n",
      resolveDir: path.join(root, 'agent'),
      sourcefile: 'mtandao-agent-main.js',
    },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20', // engines: node >=20.19
    external: ['ssh2', 'bufferutil', 'utf-8-validate'],
    supported: { 'dynamic-import': false },
    define: { 'import.meta.url': '__mtandaoBundleUrl' },
    banner: { js: "'use strict';\nconst __mtandaoBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  if (result.errors.length || result.warnings.length) throw new Error('the CLI bundle has errors or warnings (above)');
}

process.stderr.write('building protocol and agent (tsc -b)…\n');
run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-b', 'protocol/tsconfig.build.json', 'agent/tsconfig.build.json'], root);

const rootPkg = readJson(path.join(root, 'package.json'));
const agentPkg = readJson(path.join(root, 'agent/package.json'));
const protocolPkg = readJson(path.join(root, 'protocol/package.json'));
for (const [dep, range] of Object.entries(protocolPkg.dependencies ?? {})) {
  if (agentPkg.dependencies?.[dep] !== range) throw new Error(`agent/package.json must depend on ${dep}@${range} itself (the bundled protocol needs it)`);
}
const stage = mkdtempSync(path.join(tmpdir(), 'mtandao-agent-pack-'));
try {
  copyDist(path.join(root, 'agent/dist'), path.join(stage, 'dist'));
  process.stderr.write('bundling the CLI (esbuild)…\n');
  await bundleCli(path.join(stage, 'dist/mtandao-agent.cjs'));
  cpSync(path.join(root, 'agent/bin/mtandao-agent.cjs'), path.join(stage, 'bin/mtandao-agent.cjs'));
  cpSync(path.join(root, 'agent/README.md'), path.join(stage, 'README.md'));
  cpSync(path.join(root, 'deploy/mtandao-agent.service'), path.join(stage, 'mtandao-agent.service'));
  cpSync(path.join(root, 'deploy/agent.example.json'), path.join(stage, 'agent.example.json'));
  const protocolDir = path.join(stage, 'node_modules/@mtandao/protocol');
  mkdirSync(protocolDir, { recursive: true });
  copyDist(path.join(root, 'protocol/dist'), path.join(protocolDir, 'dist'));
  cpSync(path.join(root, 'protocol/README.md'), path.join(protocolDir, 'README.md'));
  writeFileSync(
    path.join(protocolDir, 'package.json'),
    // No `dependencies` here: npm would count them part of the bundle and leave them empty in a
    // global install; the agent depends on each of them itself (checked above), and Node finds
    // them from the bundled copy by walking up.
    JSON.stringify(
      {
        name: protocolPkg.name,
        version: protocolPkg.version,
        description: protocolPkg.description,
        license: rootPkg.license,
        type: 'module',
        exports: compiledOnly(protocolPkg.exports),
      },
      null,
      2,
    ),
  );
  writeFileSync(
    path.join(stage, 'package.json'),
    JSON.stringify(
      {
        name: agentPkg.name,
        version: agentPkg.version,
        description: agentPkg.description,
        license: rootPkg.license,
        type: 'module',
        engines: rootPkg.engines,
        bin: { 'mtandao-agent': 'bin/mtandao-agent.cjs' },
        exports: compiledOnly(agentPkg.exports),
        imports: compiledOnly(agentPkg.imports),
        files: ['dist', 'bin', 'README.md', 'mtandao-agent.service', 'agent.example.json'],
        dependencies: { ...agentPkg.dependencies, '@mtandao/protocol': protocolPkg.version },
        bundleDependencies: ['@mtandao/protocol'],
      },
      null,
      2,
    ),
  );
  mkdirSync(out, { recursive: true });
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', out], stage));
  process.stdout.write(`${path.join(out, packed[0].filename)}\n`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
