import type { CreationAttributes } from 'sequelize';
import { SmsMessage } from '../db/models/index.ts';

export class SmsRepository {
  create(data: CreationAttributes<SmsMessage>): Promise<SmsMessage> {
    return SmsMessage.create(data);
  }
  list(filter: { customerId?: string | undefined }, limit: number, offset: number): Promise<{ rows: SmsMessage[]; count: number }> {
    return SmsMessage.findAndCountAll({ where: filter.customerId ? { customerId: filter.customerId } : {}, order: [['id', 'DESC']], limit, offset });
  }
}
