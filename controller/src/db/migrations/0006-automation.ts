import type { Sequelize } from 'sequelize';

// Automation: the SMS outbox (queued → sent → delivered | failed, retried with backoff), a dedupe
// key that makes "at most once per customer and period" a database fact, and the index the expiry
// sweep walks.
const SQL = `
ALTER TABLE sms_messages
  ADD COLUMN kind text NOT NULL DEFAULT 'manual',
  ADD COLUMN dedupe_key text,
  ADD COLUMN attempts integer NOT NULL DEFAULT 0,
  ADD COLUMN next_attempt_at timestamptz,
  ADD COLUMN sent_at timestamptz,
  ADD COLUMN delivered_at timestamptz,
  ADD COLUMN failure_reason text,
  ADD COLUMN network_code text,
  ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
-- one reminder per customer, period and day count; one expired notice per period; one receipt per entry
CREATE UNIQUE INDEX sms_messages_dedupe_key ON sms_messages (dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX sms_messages_due_idx ON sms_messages (next_attempt_at, id) WHERE status IN ('queued', 'sending');
CREATE INDEX sms_messages_provider_id_idx ON sms_messages (provider_message_id) WHERE provider_message_id IS NOT NULL;

-- the expiry sweep reads only active customers in expiry order
CREATE INDEX customers_active_expiry_idx ON customers (expires_at) WHERE status = 'active';
`;

export async function up(sequelize: Sequelize): Promise<void> {
  await sequelize.transaction(async (transaction) => {
    await sequelize.query(SQL, { transaction });
  });
}
