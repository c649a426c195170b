// A controller in a child process on a given database, so a test can kill it (SIGKILL) the way an
// instance dies: `CHILD_DATABASE_URL`, `CHILD_SECRET_KEY`, `CHILD_SIGNING_KEY`; it sends its URL
// over IPC once it listens.
import { startTestController } from './controller.ts';

const controller = await startTestController(
  { MTANDAO_SECRET_KEY: process.env.CHILD_SECRET_KEY!, MTANDAO_SIGNING_KEY: process.env.CHILD_SIGNING_KEY!, MTANDAO_HEARTBEAT_SECONDS: '2' },
  { databaseUrl: process.env.CHILD_DATABASE_URL! },
);
process.send!({ url: controller.url });
