import type express from 'express';
import type { Server } from 'node:http';

/** An Express app listening on a free loopback port. */
export const listen = (app: express.Express): Promise<Server> =>
  new Promise<Server>((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
