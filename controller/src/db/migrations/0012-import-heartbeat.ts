import type { Sequelize } from 'sequelize';

// When the controller running an import last showed it was alive: an import left "running" by a
// controller that stopped (a crash, a restart, a deploy) is taken over once this is old enough.
const SQL = `ALTER TABLE imports ADD COLUMN heartbeat_at timestamptz;`;

export async function up(sequelize: Sequelize): Promise<void> {
  await sequelize.transaction(async (transaction) => {
    await sequelize.query(SQL, { transaction });
  });
}
