// A controller in a child process that dies (SIGKILL) the moment its first 201 to POST
// /customers is about to leave: after the commit, before a byte of the answer is sent. The
// idempotency test runs it to lose a reply the way a crash does.
import http from 'node:http';
import { startTestController } from './controller.ts';

const controller = await startTestController(
  { MTANDAO_SECRET_KEY: process.env.CRASH_SECRET_KEY!, MTANDAO_SIGNING_KEY: process.env.CRASH_SIGNING_KEY! },
  { databaseUrl: process.env.CRASH_DATABASE_URL! },
);
const writeHead = http.ServerResponse.prototype.writeHead;
http.ServerResponse.prototype.writeHead = function (this: http.ServerResponse, ...args: unknown[]) {
  const status = typeof args[0] === 'number' ? args[0] : this.statusCode;
  if (
    status === 201 &&
    this.req.method === 'POST' &&
    (this.req as http.IncomingMessage & { originalUrl?: string }).originalUrl?.split('?')[0] === '/api/v1/customers'
  )
    process.kill(process.pid, 'SIGKILL');
  return (writeHead as (...a: unknown[]) => http.ServerResponse).apply(this, args);
} as typeof writeHead;
process.send!({ url: controller.url });
