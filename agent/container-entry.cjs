#!/usr/bin/env node
// The agent image's entry point. Started as root (RouterOS runs container images as root and
// creates mount folders owned by root), it hands the state directory to the unprivileged `node`
// user and drops to it before the agent starts; started as any other user, it just runs the agent.
// CommonJS, like the bin it runs: an ES module here would start Node's ES module loader (~3 MB).
'use strict';
const { chownSync, mkdirSync, readdirSync } = require('node:fs');
const path = require('node:path');

const UID = 1000; // `node` in the node:*-alpine images
const GID = 1000;

function chownTree(dir) {
  chownSync(dir, UID, GID);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(p);
    else chownSync(p, UID, GID);
  }
}

if (process.getuid?.() === 0) {
  const stateDir = process.env.MTANDAO_AGENT_STATE_DIR ?? '/var/lib/mtandao-agent';
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  chownTree(stateDir);
  process.setgroups?.([GID]);
  process.setgid(GID);
  process.setuid(UID);
}
// the packed bin, beside the node_modules it was copied next to (/opt/mtandao-agent in the image)
require(path.join(__dirname, 'node_modules/@mtandao/agent/bin/mtandao-agent.cjs'));
