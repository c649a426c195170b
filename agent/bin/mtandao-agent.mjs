#!/usr/bin/env node
// Runs the agent's TypeScript sources through tsx (no build step): `mtandao-agent enroll|run …`.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli.ts');
process.exitCode = await runCli(process.argv.slice(2));
