import pg from 'pg';
import { Sequelize } from 'sequelize';
import type { Logger } from '../logger.ts';

// BIGINT (money in minor units, ids) arrives as a string from pg; keep it that way: ids are
// strings in the API and money is parsed to bigint where it is summed.
pg.types.setTypeParser(20, (v: string) => v);

/** Opens the Sequelize instance every repository uses. */
export function createSequelize(url: string, logger: Logger, options: { poolMax?: number } = {}): Sequelize {
  return new Sequelize(url, {
    dialect: 'postgres',
    dialectModule: pg,
    logging: (sql: string, timing?: number) => logger.trace({ sql, ms: timing }, 'sql'),
    benchmark: true,
    pool: { max: options.poolMax ?? 10, min: 0, idle: 10_000, acquire: 30_000 },
    define: { underscored: true, timestamps: true },
  });
}
