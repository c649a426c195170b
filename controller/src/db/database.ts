import { Transaction, type Sequelize } from 'sequelize';

/** The database handle repositories share. */
export class Database {
  constructor(readonly sequelize: Sequelize) {}

  /** Runs `fn` in one transaction: everything or nothing. */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.sequelize.transaction({ isolationLevel: Transaction.ISOLATION_LEVELS.READ_COMMITTED }, fn);
  }

  /** A raw query returning rows. */
  async rows<T>(sql: string, bind: unknown[] = [], tx?: Transaction): Promise<T[]> {
    const [rows] = await this.sequelize.query(sql, { bind, transaction: tx, raw: true });
    return rows as T[];
  }

  /** A raw statement; returns the affected row count where the driver reports it. */
  async exec(sql: string, bind: unknown[] = [], tx?: Transaction): Promise<number> {
    const [, meta] = await this.sequelize.query(sql, { bind, transaction: tx, raw: true });
    // Sequelize hands back the row count itself for INSERT and the pg result for UPDATE/DELETE
    if (typeof meta === 'number') return meta;
    return (meta as { rowCount?: number } | undefined)?.rowCount ?? 0;
  }
}

/** PostgreSQL's error for a violated unique index, with the constraint's name. */
export function uniqueViolation(err: unknown): string | undefined {
  const e = err as { name?: string; parent?: { code?: string; constraint?: string }; original?: { code?: string; constraint?: string } };
  const pg = e?.parent ?? e?.original;
  if (pg?.code === '23505') return pg.constraint ?? 'unique';
  return undefined;
}

/** PostgreSQL's error for a violated exclusion constraint. */
export function exclusionViolation(err: unknown): string | undefined {
  const e = err as { parent?: { code?: string; constraint?: string } };
  return e?.parent?.code === '23P01' ? (e.parent.constraint ?? 'exclusion') : undefined;
}

/** PostgreSQL's error for a violated foreign key. */
export function foreignKeyViolation(err: unknown): string | undefined {
  const e = err as { parent?: { code?: string; constraint?: string } };
  return e?.parent?.code === '23503' ? (e.parent.constraint ?? 'foreign_key') : undefined;
}

export type { Transaction };
