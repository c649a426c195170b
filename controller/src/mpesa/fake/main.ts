import { parseArgs } from 'node:util';
import { DarajaFake } from './daraja-fake.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.MTANDAO_DARAJA_FAKE_PORT ?? '8089' },
    host: { type: 'string', default: '127.0.0.1' },
    passkey: { type: 'string' },
    'consumer-key': { type: 'string' },
    'consumer-secret': { type: 'string' },
    'stk-delay-ms': { type: 'string', default: '2000' },
  },
});
const fake = new DarajaFake({
  ...(values.passkey ? { passkey: values.passkey } : {}),
  ...(values['consumer-key'] ? { consumerKey: values['consumer-key'] } : {}),
  ...(values['consumer-secret'] ? { consumerSecret: values['consumer-secret'] } : {}),
  stkDelayMs: Number(values['stk-delay-ms']),
});
const url = await fake.start(Number(values.port), values.host);
process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), msg: 'Daraja fake listening', url })}\n`);
const stop = () => void fake.stop().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
