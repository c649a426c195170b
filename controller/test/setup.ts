import { dropTestDatabases } from './helpers/database.ts';

/** Mocha root hooks: drop what the run created. */
export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(180_000);
    await dropTestDatabases();
  },
};
