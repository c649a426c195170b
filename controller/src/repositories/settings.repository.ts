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
}
