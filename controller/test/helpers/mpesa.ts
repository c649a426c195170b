import { DarajaFake, type DarajaFakeOptions } from '../../src/mpesa/fake/daraja-fake.ts';
import { ApiClient, expectStatus } from './client.ts';
import { ADMIN_PASSWORD, startTestController } from './controller.ts';
import { Fixtures } from './fixtures.ts';

export const SHORTCODE = '600984';
export const PASSKEY = 'test-passkey-bfb279f9aa9bdbcf';
export const CONSUMER_KEY = 'test-consumer-key';
export const CONSUMER_SECRET = 'test-consumer-secret';

/** A Daraja fake with the test credentials. */
export async function startFake(options: DarajaFakeOptions = {}): Promise<DarajaFake> {
  const fake = new DarajaFake({ consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, passkey: PASSKEY, stkDelayMs: 100, ...options });
  await fake.start();
  return fake;
}

/** Sets M-Pesa up as an admin would and registers the URLs with the fake. */
export async function setUpMpesa(
  api: ApiClient,
  extra: Record<string, unknown> = {},
): Promise<{ token: string; urls: { validation: string; confirmation: string; stkCallback: string } }> {
  const view = expectStatus(
    await api.patch('/settings/mpesa', {
      environment: 'sandbox',
      shortcodeType: 'paybill',
      shortcode: SHORTCODE,
      consumerKey: CONSUMER_KEY,
      consumerSecret: CONSUMER_SECRET,
      passkey: PASSKEY,
      ...extra,
    }),
    200,
  ) as { callbackUrls: { validation: string; confirmation: string; stkCallback: string } };
  const reg = expectStatus(await api.post('/settings/mpesa/register-urls'), 200) as { ok: boolean; message: string };
  if (!reg.ok) throw new Error(`register URLs failed: ${reg.message}`);
  return { token: view.callbackUrls.confirmation.split('/').pop()!, urls: view.callbackUrls };
}

/**
 * A controller talking to a Daraja fake, with the fixtures' world and M-Pesa set up as an admin
 * would (`env`: the controller's extra settings).
 */
export async function startMpesaStack(env: Record<string, string> = {}) {
  const fake = await startFake();
  const controller = await startTestController({ MTANDAO_DARAJA_URL: fake.url, ...env });
  const api = await new ApiClient(controller.url).login('admin', ADMIN_PASSWORD);
  const fx = new Fixtures(api);
  const world = await fx.world();
  const { token } = await setUpMpesa(api);
  const stop = async () => {
    await controller.stop();
    await fake.stop();
  };
  return { fake, controller, api, fx, world, token, stop };
}

let n = 0;
/** A C2B confirmation as Daraja documents it. */
export function confirmation(extra: Record<string, unknown> = {}): Record<string, unknown> {
  n++;
  return {
    TransactionType: 'Pay Bill',
    TransID: `RKT${String(Date.now()).slice(-5)}${String(n).padStart(4, '0')}`,
    TransTime: '20191122063845',
    TransAmount: '1500.00',
    BusinessShortCode: SHORTCODE,
    BillRefNumber: 'invoice008',
    InvoiceNumber: '',
    OrgAccountBalance: '49197.00',
    ThirdPartyTransID: '',
    MSISDN: '2547*****149',
    FirstName: 'John',
    MiddleName: '',
    LastName: '',
    ...extra,
  };
}

/** POSTs a raw body to a public callback path, as Daraja does (no cookie, no Origin). */
export async function callback(baseUrl: string, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${baseUrl}/api/v1/callbacks${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: res.status, body: parsed };
}
