import type { Sequelize } from 'sequelize';

// Fewer writes on the add-customer path (issue 13).
//
// Ledger: a receipt number belongs to payments and reverses_id to reversals only, yet their unique
// constraints indexed every line (NULLs included). Partial unique indexes enforce the same thing
// and skip the NULLs. They keep the constraints' names: a unique violation still names them.
//
// Jobs: what the applied ack said is kept on the job row (`outcome`), so a job that goes
// pending → sent → applied writes no event rows for its sending and its success: its log shows both
// from the row (only attempts that end otherwise, and the rest of a job's story, are rows).
//
// A command id is looked up only for a job in flight, from the agent it was sent to: the in-flight
// index finds it, and the unique index over every job's command id (a new entry at each claim and
// each settle) goes. Command ids stay unique by construction: `j<job id>-<attempt>-<random>`.
const SQL = `
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_receipt_number_key;
CREATE UNIQUE INDEX ledger_entries_receipt_number_key ON ledger_entries (receipt_number) WHERE receipt_number IS NOT NULL;
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_reverses_id_key;
CREATE UNIQUE INDEX ledger_entries_reverses_id_key ON ledger_entries (reverses_id) WHERE reverses_id IS NOT NULL;
ALTER TABLE provisioning_jobs ADD COLUMN outcome text;
DROP INDEX provisioning_jobs_command_key;
DROP INDEX provisioning_jobs_sent_idx;
CREATE INDEX provisioning_jobs_sent_idx ON provisioning_jobs (agent_id, command_id) WHERE status = 'sent';
`;

export async function up(sequelize: Sequelize): Promise<void> {
  await sequelize.transaction(async (transaction) => {
    await sequelize.query(SQL, { transaction });
  });
}
