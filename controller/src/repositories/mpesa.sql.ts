// The statement parts M-Pesa's repository composes: storing a notification, matching its account
// reference, and finding the prompt a paybill confirmation may be the same money as.
import type { NewMpesaTransaction } from './mpesa.repository.ts';

/** Stores a notification unless its TransID is there ($1 to $19: {@link storeParams}). */
export const INSERT_SQL = `
  INSERT INTO mpesa_transactions (source, trans_id, trans_type, trans_time, amount_minor, business_short_code, bill_ref_number, invoice_number,
    org_account_balance, third_party_trans_id, msisdn, first_name, middle_name, last_name, checkout_request_id, customer_id, raw, status, reason,
    processed_at)
  VALUES ($1, $2, $3, $4, $5::bigint, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16::bigint, $17, $18, $19, CASE WHEN $18 = 'rejected' THEN now() END)
  ON CONFLICT (trans_id) WHERE trans_id IS NOT NULL DO NOTHING
  RETURNING id, status, received_at`;

/**
 * Customers whose account or additional account number is the reference `ref` (already
 * normalised); the stored numbers normalised the same way ("ACC-12 3" is "ACC123"), both expression-indexed.
 */
export const ACCOUNT_MATCH = (ref: string, when = 'true') => `
  SELECT id FROM customers WHERE ${when} AND upper(translate(account_number, ' -', '')) = ${ref}
  UNION
  SELECT id FROM customers WHERE ${when} AND additional_account_number IS NOT NULL AND upper(translate(additional_account_number, ' -', '')) = ${ref}
  LIMIT 2`;

/**
 * A prompt the STK query settled (the query carries no M-Pesa receipt) that a paybill confirmation
 * may be the same money as: the customer's, the same amount, asked within 10 minutes of the payment,
 * from the same phone when the confirmation shows it. At most one.
 *
 * The customer's matching prompts still pending are locked too, and waited for: the STK query may
 * be settling one of them at this very moment (it holds the prompt's lock while it pays). Once it
 * commits, PostgreSQL reads the prompt again as it now is (paid, without a receipt), so the two
 * arrivals of one payment never both pay; and an STK settle that comes second waits for this
 * transaction and then sees its payment. The candidates are a materialised step of their own: a
 * filter on `paid` pushed below the lock would drop a prompt still pending before waiting for it.
 * The receipt number read here may miss a settle that committed meanwhile: the caller reads it
 * from the payment then.
 */
export const RECEIPTLESS_PROMPT = (customer: string, amount: string, msisdn: string, paidAt: string) => `
  WITH candidate AS MATERIALIZED (
    SELECT s.checkout_request_id, s.payment_id, s.status, s.mpesa_receipt_number, s.created_at
      FROM mpesa_stk_requests s
     WHERE s.customer_id = ${customer} AND s.amount_minor = ${amount} AND s.status IN ('pending', 'paid')
       AND s.created_at BETWEEN ${paidAt} - interval '10 minutes' AND ${paidAt} + interval '10 minutes' AND (${msisdn} IS NULL OR s.phone = ${msisdn})
     ORDER BY s.created_at FOR UPDATE OF s)
  SELECT c.checkout_request_id, c.payment_id,
         (SELECT t.receipt_number FROM mpesa_transactions t WHERE t.trans_id = 'STK-' || c.checkout_request_id) AS receipt_number
    FROM candidate c
   WHERE c.status = 'paid' AND c.mpesa_receipt_number IS NULL
   ORDER BY c.created_at LIMIT 1`;

/** The values of a stored notification, $1 to $19 of the INSERT. */
export const storeParams = (t: NewMpesaTransaction): unknown[] => [
  t.source,
  t.transId,
  t.transType ?? null,
  t.transTime ?? null,
  t.amountMinor?.toString() ?? null,
  t.shortCode ?? null,
  t.billRefNumber ?? null,
  t.invoiceNumber ?? null,
  t.orgAccountBalance ?? null,
  t.thirdPartyTransId ?? null,
  t.msisdn ?? null,
  t.firstName ?? null,
  t.middleName ?? null,
  t.lastName ?? null,
  t.checkoutRequestId ?? null,
  t.customerId ?? null,
  t.raw,
  t.status,
  t.reason ?? null,
];
