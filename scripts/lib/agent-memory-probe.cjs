// Preloaded into the agent by scripts/agent-footprint.ts (`node --require`): on SIGUSR2 it writes one
// line to stderr, `mtandao-memory {json}`, with the V8 heap by space and Node's memory figures.
// CommonJS and nothing loaded before the signal, so the agent's footprint is measured as shipped.
'use strict';

process.on('SIGUSR2', () => {
  const v8 = require('node:v8');
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, { committed: s.physical_space_size, used: s.space_used_size }]));
  process.stderr.write(`mtandao-memory ${JSON.stringify({ usage: process.memoryUsage(), spaces })}\n`);
});
