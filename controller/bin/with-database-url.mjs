#!/usr/bin/env node
// Container entry: builds DATABASE_URL from a password file (Docker secrets) and the database host,
// then runs the given command. Outside containers, set DATABASE_URL directly.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const env = { ...process.env };
if (!env.DATABASE_URL && env.MTANDAO_DATABASE_PASSWORD_FILE) {
  const password = encodeURIComponent(readFileSync(env.MTANDAO_DATABASE_PASSWORD_FILE, 'utf8').trim());
  const host = env.MTANDAO_DATABASE_HOST ?? 'postgres';
  const user = env.MTANDAO_DATABASE_USER ?? 'mtandao';
  const db = env.MTANDAO_DATABASE_NAME ?? 'mtandao';
  env.DATABASE_URL = `postgres://${user}:${password}@${host}:5432/${db}`;
}
const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: with-database-url.mjs <command> [args…]');
  process.exit(2);
}
const child = spawn(command, args, { env, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
