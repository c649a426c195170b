/**
 * `mtandao-routeros-sim`: runs the emulator until SIGINT or SIGTERM.
 *
 *   mtandao-routeros-sim --api-port 8728 --ssh-port 2222 --username admin --password admin \
 *     --identity demo --latency-ms 0 --version 7.18.2
 */
import { parseArgs } from 'node:util';
import { RouterOsSim } from './index.ts';

const USAGE = `usage: mtandao-routeros-sim [options]
  --host ADDRESS         listen address (127.0.0.1)
  --api-port N           API port (8728; 0 picks a free one)
  --api-ssl-port N       api-ssl port (off unless given)
  --ssh-port N           SSH port (2222; "off" disables SSH)
  --hotspot-port N       hotspot web server: login page, POST /login, status (off unless given)
  --username NAME        login name (admin)
  --password TEXT        login password (empty)
  --identity NAME        /system identity (MikroTik)
  --version X.Y.Z        RouterOS version to emulate (7.18.2)
  --latency-ms N         delay before each reply (0)
  --op-cost-ms N         CPU time of each write (0)
  --host-key FILE        SSH host key file, created when missing
`;

function port(value: string | undefined, fallback: number | null): number | null {
  if (value === undefined) return fallback;
  if (value === 'off') return null;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`not a port: ${value}`);
  return n;
}

function number(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number of milliseconds`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string' },
      'api-port': { type: 'string' },
      'api-ssl-port': { type: 'string' },
      'ssh-port': { type: 'string' },
      'hotspot-port': { type: 'string' },
      username: { type: 'string' },
      password: { type: 'string' },
      identity: { type: 'string' },
      version: { type: 'string' },
      'latency-ms': { type: 'string' },
      'op-cost-ms': { type: 'string' },
      'host-key': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const latencyMs = number(values['latency-ms'], 'latency-ms');
  const opCostMs = number(values['op-cost-ms'], 'op-cost-ms');
  const sim = new RouterOsSim({
    host: values.host ?? '127.0.0.1',
    apiPort: port(values['api-port'], 8728) ?? 8728,
    apiSslPort: port(values['api-ssl-port'], null),
    sshPort: port(values['ssh-port'], 2222),
    hotspotPort: port(values['hotspot-port'], null),
    username: values.username ?? 'admin',
    password: values.password ?? '',
    identity: values.identity ?? 'MikroTik',
    version: values.version ?? '7.18.2',
    ...(latencyMs === undefined ? {} : { latencyMs }),
    ...(opCostMs === undefined ? {} : { opCostMs }),
    ...(values['host-key'] ? { hostKeyPath: values['host-key'] } : {}),
  });
  const ports = await sim.start();
  const host = values.host ?? '127.0.0.1';
  const where = [
    `api ${host}:${ports.apiPort}`,
    ...(ports.apiSslPort ? [`api-ssl ${host}:${ports.apiSslPort}`] : []),
    ...(ports.sshPort ? [`ssh ${host}:${ports.sshPort}`] : []),
    ...(ports.hotspotPort ? [`hotspot http://${host}:${ports.hotspotPort}/login`] : []),
  ];
  process.stdout.write(
    `RouterOS ${values.version ?? '7.18.2'} emulator "${values.identity ?? 'MikroTik'}" listening: ${where.join(', ')} (login ${values.username ?? 'admin'})\n`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: stopping\n`);
    void sim.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((e: unknown) => {
  process.stderr.write(`mtandao-routeros-sim: ${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
  process.exit(2);
});
