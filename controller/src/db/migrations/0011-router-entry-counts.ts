import type { Sequelize } from 'sequelize';

// When the controller last received a router's entry counts (its own clock, not the agent's): a
// customer whose job was applied before then must be among the entries the next counts include.
const SQL = `ALTER TABLE routers ADD COLUMN counted_at timestamptz;`;

export async function up(sequelize: Sequelize): Promise<void> {
  await sequelize.transaction(async (transaction) => {
    await sequelize.query(SQL, { transaction });
  });
}
