import type { Transaction } from 'sequelize';
import { Setting } from '../db/models/index.ts';

export class SettingsRepository {
  async all(): Promise<Map<string, unknown>> {
    const rows = await Setting.findAll();
    return new Map(rows.map((r) => [r.key, r.value]));
  }
  async set(key: string, value: unknown, userId: string | null, tx: Transaction): Promise<void> {
    await Setting.upsert({ key, value, updatedBy: userId, updatedAt: new Date() }, { transaction: tx });
  }
}
