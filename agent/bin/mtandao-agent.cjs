#!/usr/bin/env node
// `mtandao-agent` as shipped: the bin of the packed tarball (scripts/agent-pack.mjs), which the
// agent image and the systemd unit run. It loads dist/mtandao-agent.cjs, the whole CLI and its
// dependencies bundled into one CommonJS file: Node then never starts its ES module loader, and no
// ES module copies the exports of node:tls (a getter that builds every root certificate as a
// string). In this repository the workspace's bin is mtandao-agent.mjs, which runs dist/ or the
// TypeScript sources. Figures: agent/README.md#footprint, `npm run agent:footprint`.
'use strict';

// Low-memory mode: V8 runs the agent in its bytecode interpreter and never compiles it to machine
// code (no Sparkplug, no TurboFan), which keeps the compilers' code and working memory out of the
// process (~4 MB resident). The agent waits on routers and the controller far more than it
// computes: a pass over 10 000 customers costs ~0.1 s more CPU this way. Any other value than
// MTANDAO_AGENT_LOW_MEMORY=0 keeps it on; 0 gives V8's defaults back.
if (process.env.MTANDAO_AGENT_LOW_MEMORY !== '0') require('node:v8').setFlagsFromString('--no-opt --no-sparkplug');

require('../dist/mtandao-agent.cjs');
