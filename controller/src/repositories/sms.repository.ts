import type { CreationAttributes, Transaction } from 'sequelize';
import { SmsMessage } from '../db/models/index.ts';
import type { Database } from '../db/database.ts';

/** A message to queue in the outbox. */
export interface NewSms {
  customerId: string | null;
  toPhone: string;
  body: string;
  kind: string;
  /** At most one message per key, ever (reminders, expired notices, receipts, welcome). */
  dedupeKey: string | null;
  provider: string;
  createdBy: string | null;
}

/** A queued message claimed for sending. */
export interface ClaimedSms {
  id: string;
  to_phone: string;
  body: string;
  attempts: number;
}

export class SmsRepository {
  constructor(private readonly db: Database) {}

  create(data: CreationAttributes<SmsMessage>): Promise<SmsMessage> {
    return SmsMessage.create(data);
  }
  list(filter: { customerId?: string | undefined }, limit: number, offset: number): Promise<{ rows: SmsMessage[]; count: number }> {
    return SmsMessage.findAndCountAll({ where: filter.customerId ? { customerId: filter.customerId } : {}, order: [['id', 'DESC']], limit, offset });
  }

  /** Queues messages in one statement; a message whose dedupe key exists is skipped. Returns the new ids. */
  async enqueue(rows: NewSms[], tx: Transaction): Promise<string[]> {
    if (rows.length === 0) return [];
    const out = await this.db.rows<{ id: string }>(
      `INSERT INTO sms_messages (customer_id, to_phone, body, kind, dedupe_key, provider, status, next_attempt_at, created_by)
       SELECT x.customer_id, x.to_phone, x.body, x.kind, x.dedupe_key, x.provider, 'queued', now(), x.created_by
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[]) AS x(customer_id, to_phone, body, kind, dedupe_key, provider, created_by)
       ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
       RETURNING id`,
      [
        rows.map((r) => r.customerId),
        rows.map((r) => r.toPhone),
        rows.map((r) => r.body),
        rows.map((r) => r.kind),
        rows.map((r) => r.dedupeKey),
        rows.map((r) => r.provider),
        rows.map((r) => r.createdBy),
      ],
      tx,
    );
    return out.map((r) => String(r.id));
  }

  /**
   * Claims due messages (SKIP LOCKED: instances share the outbox). A claim is a lease: a message
   * whose sender died mid-send is due again when the lease runs out.
   */
  claim(limit: number, leaseSeconds: number): Promise<ClaimedSms[]> {
    return this.db.rows<ClaimedSms>(
      `UPDATE sms_messages m SET status = 'sending', attempts = m.attempts + 1, next_attempt_at = now() + make_interval(secs => $2), updated_at = now()
         FROM (SELECT id FROM sms_messages WHERE status IN ('queued', 'sending') AND next_attempt_at <= now() ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED) due
        WHERE m.id = due.id
       RETURNING m.id, m.to_phone, m.body, m.attempts`,
      [limit, leaseSeconds],
    );
  }

  /** Records a send: accepted (sent or stored), failed for good, or due again after `retryInSeconds`. */
  async settle(
    id: string,
    r: {
      status: 'sent' | 'stored' | 'failed' | 'queued';
      provider: string;
      providerMessageId: string | null;
      providerStatus: string | null;
      cost: string | null;
      error: string | null;
      retryInSeconds?: number;
    },
  ): Promise<void> {
    await this.db.exec(
      `UPDATE sms_messages SET status = $2, provider = $3, provider_message_id = $4, provider_status = $5, cost = $6, error = $7,
              next_attempt_at = CASE WHEN $2 = 'queued' THEN now() + make_interval(secs => $8) ELSE NULL END,
              sent_at = CASE WHEN $2 IN ('sent', 'stored') THEN now() ELSE sent_at END, updated_at = now()
        WHERE id = $1 AND status = 'sending'`,
      [id, r.status, r.provider, r.providerMessageId, r.providerStatus, r.cost, r.error, r.retryInSeconds ?? 0],
    );
  }

  /**
   * Applies a delivery report to the message with the provider's id. A report never moves a
   * message back from a final state (reports can arrive out of order).
   */
  async deliveryReport(r: {
    providerMessageId: string;
    status: 'sent' | 'delivered' | 'failed';
    providerStatus: string;
    failureReason: string | null;
    networkCode: string | null;
  }): Promise<number> {
    return this.db.exec(
      `UPDATE sms_messages SET status = $2, provider_status = $3, failure_reason = COALESCE($4, failure_reason), network_code = COALESCE($5, network_code),
              delivered_at = CASE WHEN $2 = 'delivered' THEN now() ELSE delivered_at END,
              error = CASE WHEN $2 = 'failed' THEN 'Not delivered: ' || $3 || COALESCE(' (' || $4 || ')', '') ELSE error END, updated_at = now()
        WHERE provider_message_id = $1 AND status NOT IN ('delivered', 'failed')`,
      [r.providerMessageId, r.status, r.providerStatus, r.failureReason, r.networkCode],
    );
  }
}
