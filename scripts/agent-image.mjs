#!/usr/bin/env node
// `node scripts/agent-image.mjs`: assembles the agent image's production tree without Docker —
// the packed tarball installed with npm's production flags, as agent/Dockerfile's last stage does —
// and prints its size beside the base image's published compressed size. Exits 1 past the budget.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { packAndInstall } from './lib/agent-install.mjs';

/** node:20-alpine, compressed, as Docker Hub lists it (tags page of a re-push of the official 20.17.0-alpine3.20 image). */
const BASE = {
  image: 'node:20-alpine',
  compressedMB: { 'linux/amd64': 45.13, 'linux/arm/v7': 42.73 },
  source: 'https://hub.docker.com/r/ygqygq2/node/tags (its 20.17.0-alpine3.20 tag)',
};
const BUDGET_MB = 60;

function walk(dir) {
  let bytes = 0;
  let files = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const sub = walk(p);
      bytes += sub.bytes;
      files += sub.files;
    } else if (entry.isFile()) {
      bytes += statSync(p).size;
      files += 1;
    }
  }
  return { bytes, files };
}

const mb = (bytes) => bytes / 1e6;
const dir = mkdtempSync(path.join(tmpdir(), 'mtandao-agent-image-'));
try {
  const { tarball, prefix, modules } = packAndInstall(dir);
  const tree = walk(prefix);
  const packages = readdirSync(modules).flatMap((n) =>
    n.startsWith('@') ? readdirSync(path.join(modules, n)).map((s) => `${n}/${s}`) : n.startsWith('.') ? [] : [n],
  );
  // a layer is a gzipped tar of the tree: measure exactly that
  const layer = gzipSync(execFileSync('tar', ['-cf', '-', '-C', prefix, '.'], { maxBuffer: 512 * 1024 * 1024 }), { level: 6 });
  const forbidden = ['tsx', 'typescript', 'esbuild', '@mtandao/routeros-sim', '@mtandao/controller'].filter((p) => packages.includes(p));
  const worst = Math.max(...Object.values(BASE.compressedMB));
  const total = worst + mb(layer.length);
  const lines = [
    `agent tarball        ${path.basename(tarball)}  ${(statSync(tarball).size / 1024).toFixed(0)} KiB`,
    `production tree      ${mb(tree.bytes).toFixed(1)} MB on disk, ${tree.files} files, ${packages.length} packages (${packages.join(', ')})`,
    `  as an image layer  ${mb(layer.length).toFixed(2)} MB compressed (tar.gz)`,
    `base image           ${BASE.image}: ${Object.entries(BASE.compressedMB)
      .map(([arch, size]) => `${size} MB ${arch}`)
      .join(', ')} compressed`,
    `                     source: ${BASE.source}`,
    `agent image          ≈ ${total.toFixed(1)} MB compressed (largest base + layer; budget ${BUDGET_MB} MB)`,
  ];
  if (forbidden.length) lines.push(`FORBIDDEN in production: ${forbidden.join(', ')}`);
  console.log(lines.join('\n'));
  process.exitCode = forbidden.length || total > BUDGET_MB ? 1 : 0;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
