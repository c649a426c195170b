#!/usr/bin/env node
// The RouterOS emulator is a dev tool (tests, bench, demo): it always runs its TypeScript sources,
// and those of the agent it borrows the wire encoding from, through tsx. Started without the
// source condition, it runs itself again with it.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

if (process.execArgv.includes('--conditions=mtandao-source')) {
  await import('../src/cli.ts');
} else {
  const child = spawn(process.execPath, ['--conditions=mtandao-source', '--import', 'tsx', fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
