import type { Sequelize } from 'sequelize';

// Login attempts are recorded before the password is checked (one statement decides whether the
// attempt may check at all); `refused` says what that statement decided for the latest attempt.
const SQL = `
ALTER TABLE login_throttle ADD COLUMN refused boolean NOT NULL DEFAULT false;
`;

export async function up(sequelize: Sequelize): Promise<void> {
  await sequelize.transaction(async (transaction) => {
    await sequelize.query(SQL, { transaction });
  });
}
