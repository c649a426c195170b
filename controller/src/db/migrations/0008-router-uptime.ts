import type { Sequelize } from 'sequelize';

// A router's uptime as last read: a smaller one later means it restarted (maybe empty) and is
// reconciled. The index serves the reconcile gate (is one waiting, or was one queued lately?).
const SQL = `
ALTER TABLE routers ADD COLUMN uptime_seconds bigint;
CREATE INDEX provisioning_jobs_reconcile_idx ON provisioning_jobs (router_id, created_at DESC) WHERE type = 'router.reconcile';
`;

export async function up(sequelize: Sequelize): Promise<void> {
  await sequelize.transaction(async (transaction) => {
    await sequelize.query(SQL, { transaction });
  });
}
