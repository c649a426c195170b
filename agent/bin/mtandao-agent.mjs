#!/usr/bin/env node
// `mtandao-agent enroll|run|doctor …`: runs the compiled agent (dist/, built by `npm run build`).
// Tests and dev run the TypeScript sources instead: node --conditions=mtandao-source --import tsx.
const { runCli } = await import('#cli');
process.exitCode = await runCli(process.argv.slice(2));
