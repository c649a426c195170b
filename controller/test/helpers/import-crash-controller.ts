// A controller in a child process that dies (SIGKILL) as an import's second batch begins: the first
// batch is written and marked, the rest is not. The import-resume test runs it to leave an import
// "running" the way a crash or a restart does. Its URL is sent over IPC once it listens.
import { ImportsRepository } from '../../src/repositories/imports.repository.ts';
import { startTestController } from './controller.ts';

const heartbeat = ImportsRepository.prototype.heartbeat;
let beats = 0;
ImportsRepository.prototype.heartbeat = async function (this: ImportsRepository, id: string) {
  if (++beats === 2) process.kill(process.pid, 'SIGKILL');
  return heartbeat.call(this, id);
};
const controller = await startTestController(
  { MTANDAO_SECRET_KEY: process.env.CRASH_SECRET_KEY!, MTANDAO_SIGNING_KEY: process.env.CRASH_SIGNING_KEY! },
  { databaseUrl: process.env.CRASH_DATABASE_URL! },
);
process.send!({ url: controller.url });
