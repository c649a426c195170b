import type { Sequelize } from 'sequelize';

// The per-/24 address counts (network_chunks, read by the available-IP search) were kept by a row
// trigger: one PL/pgSQL call and one upsert per new customer. Add Customer writes its customers in
// batches and an import by the thousand, so new customers are counted once per statement instead,
// one upsert per chunk they touch. The chunks are taken in key order, so two statements that touch
// the same chunks lock them in the same order and never deadlock. Updates and deletes keep the row
// trigger: they come one at a time.
const SQL = `
CREATE FUNCTION customers_chunk_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO network_chunks (network_id, chunk, stripe, used)
  SELECT network_id, (ip_address - '0.0.0.0'::inet) / 256, (ip_address - '0.0.0.0'::inet) % 16, count(*)
    FROM inserted WHERE ip_address IS NOT NULL
   GROUP BY 1, 2, 3
   ORDER BY 1, 2, 3
  ON CONFLICT (network_id, chunk, stripe) DO UPDATE SET used = network_chunks.used + EXCLUDED.used;
  RETURN NULL;
END $$;
DROP TRIGGER customers_chunk_insert ON customers;
CREATE TRIGGER customers_chunk_insert AFTER INSERT ON customers
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION customers_chunk_count_inserted();
`;

export async function up(sequelize: Sequelize): Promise<void> {
  await sequelize.transaction(async (transaction) => {
    await sequelize.query(SQL, { transaction });
  });
}
