import type { Sequelize } from 'sequelize';

// Insight (SPEC section 12): the customer list's sorts, the audit viewer's actor filter, and a
// daily count of customers by status for the "active customers over time" chart.
//
// Why a snapshot table: the ledger records money, not status (a suspension or an expiry writes no
// entry), and rebuilding each past day from the audit log would replay every lifecycle event on
// every view. One row a day, upserted by the controller (every few minutes, idempotent, so several
// instances agree), costs nothing to read. History starts on the day this migration runs.
const SQL = `
CREATE INDEX customers_name_sort_idx ON customers (lower(full_name), id);
CREATE INDEX customers_expiry_sort_idx ON customers (expires_at, id);
CREATE INDEX customers_balance_sort_idx ON customers (balance_minor, id);
CREATE INDEX audit_log_actor_idx ON audit_log (lower(username), id DESC);
-- the overview and the revenue reports read money received by time without touching the table
CREATE INDEX ledger_entries_revenue_idx ON ledger_entries (created_at) INCLUDE (kind, amount_minor, method, staff_user_id, reverses_id)
  WHERE kind IN ('payment','reversal');
-- the overview's "failed in the last 24 hours"
CREATE INDEX provisioning_jobs_failed_idx ON provisioning_jobs (updated_at) WHERE status = 'failed';

CREATE TABLE customer_daily_counts (
  day date PRIMARY KEY,
  total integer NOT NULL,
  active integer NOT NULL,
  expired integer NOT NULL,
  suspended integer NOT NULL,
  inactive integer NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
`;

export async function up(sequelize: Sequelize): Promise<void> {
  await sequelize.transaction(async (transaction) => {
    await sequelize.query(SQL, { transaction });
  });
}
