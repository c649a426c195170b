import type { Transaction } from 'sequelize';
import { Setting } from '../db/models/index.ts';

export class SettingsRepository {
  async all(): Promise<Map<string, unknown>> {
    const rows = await Setting.findAll();
    return new Map(rows.map((r) => [r.key, r.value]));
  }
  /** Sets a value; `null` clears it (the column holds JSON and cannot hold SQL NULL). */
  async set(key: string, value: unknown, userId: string | null, tx: Transaction): Promise<void> {
    if (value === null || value === undefined) {
      await Setting.destroy({ where: { key }, transaction: tx });
      return;
    }
    await Setting.upsert({ key, value, updatedBy: userId, updatedAt: new Date() }, { transaction: tx });
  }
  /** Stores a value unless the key has one already; returns the value that won (two instances may race). */
  async setIfAbsent(key: string, value: unknown): Promise<unknown> {
    const sequelize = Setting.sequelize!;
    await sequelize.query(`INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, { bind: [key, JSON.stringify(value)] });
    return (await Setting.findByPk(key))?.value;
  }
}
