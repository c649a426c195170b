import type { SmsView } from '@mtandao/protocol/api';
import { notFound } from '../errors.ts';
import type { RequestMeta } from '../http/route.ts';
import { displayAmount } from '../lib/money.ts';
import type { CustomersRepository } from '../repositories/customers.repository.ts';
import type { PlansRepository } from '../repositories/plans.repository.ts';
import type { SmsRepository } from '../repositories/sms.repository.ts';
import { AfricasTalkingProvider, LogSmsProvider, type SmsProvider } from '../sms/providers.ts';
import type { AuditService } from './audit.service.ts';
import type { CustomersService } from './customers.service.ts';
import type { SettingsService, SmsSettings } from './settings.service.ts';
import type { SmsMessage } from '../db/models/index.ts';

const view = (m: SmsMessage): SmsView => ({
  id: String(m.id),
  customerId: m.customerId ? String(m.customerId) : null,
  to: m.toPhone,
  body: m.body,
  provider: m.provider,
  status: m.status,
  providerMessageId: m.providerMessageId,
  providerStatus: m.providerStatus,
  error: m.error,
  createdAt: m.createdAt.toISOString(),
});

/** Builds the provider the settings name. */
export function providerFor(settings: SmsSettings): SmsProvider {
  const at = settings.africastalking;
  if (settings.provider === 'africastalking' && at.username && at.apiKey) {
    return new AfricasTalkingProvider({ username: at.username, apiKey: at.apiKey, senderId: at.senderId, baseUrl: at.baseUrl });
  }
  return new LogSmsProvider();
}

/** SMS to customers: Send Payment Details, and the outbox staff can read. */
export class SmsService {
  constructor(
    private readonly sms: SmsRepository,
    private readonly customers: CustomersRepository,
    private readonly plans: PlansRepository,
    private readonly customerService: CustomersService,
    private readonly settings: SettingsService,
    private readonly audit: AuditService,
    private readonly currency: string,
  ) {}

  /**
   * The account number, paybill, amount due and, for PPPoE/Hotspot, the login. The stored copy has
   * the password masked: no table holds a customer password in clear.
   */
  async sendPaymentDetails(meta: RequestMeta, customerId: string): Promise<SmsView> {
    const c = await this.customers.findById(customerId);
    if (!c) throw notFound('Customer');
    const plan = (await this.plans.findById(String(c.planId)))!;
    const settings = await this.settings.sms();
    const due = BigInt(plan.priceMinor) - BigInt(c.balanceMinor);
    const amount = displayAmount(due > 0n ? due : 0n, this.currency);
    const first = c.fullName.split(/\s+/)[0] ?? c.fullName;
    const pay = settings.paybillNumber
      ? `Pay ${amount} via M-Pesa Paybill ${settings.paybillNumber}, account ${c.accountNumber}${c.additionalAccountNumber ? ` (or ${c.additionalAccountNumber})` : ''}.`
      : `Amount due: ${amount}. Account number: ${c.accountNumber}.`;
    const login = c.connectionType === 'static' ? '' : ` ${c.connectionType === 'pppoe' ? 'PPPoE' : 'Hotspot'} login: ${c.username}, password: `;
    const password = c.connectionType === 'static' ? '' : this.customerService.passwordOf(c);
    const head = `Dear ${first}, your ${settings.companyName} ${plan.name} account is ${c.accountNumber}. ${pay}`;
    const body = `${head}${login}${password}`;
    const stored = `${head}${login}${password ? '••••••' : ''}`;
    const provider = providerFor(settings);
    const result = await provider.send(c.phone, body);
    const row = await this.sms.create({
      customerId,
      toPhone: c.phone,
      body: stored,
      provider: provider.name,
      status: result.status,
      providerMessageId: result.providerMessageId,
      providerStatus: result.providerStatus,
      cost: result.cost,
      error: result.error,
      createdBy: meta.actor.userId,
    });
    await this.audit.record(meta, 'customer.send-payment-details', 'customer', customerId, { smsId: String(row.id), provider: provider.name, status: result.status });
    return view(row);
  }

  async list(filter: { customerId?: string | undefined; page: number; pageSize: number }) {
    const { rows, count } = await this.sms.list(filter, filter.pageSize, (filter.page - 1) * filter.pageSize);
    return { items: rows.map(view), total: count };
  }
}
