/**
 * The read-only system menus an agent prints to learn what it talks to: `/system/clock` (to spot a
 * router without NTP) and `/system/resource` (version, uptime, the hardware of a CHR).
 */
import { formatDuration } from '@mtandao/agent/routeros-values';
import type { Row } from './menu-table.ts';

/** `/system/clock` as RouterOS 7.10+ prints it at `nowMs`, in Kenya's time zone (EAT, UTC+3, no DST). */
export function clockRow(nowMs: number): Row {
  const local = new Date(nowMs + 3 * 3600_000).toISOString();
  return {
    time: local.slice(11, 19),
    date: local.slice(0, 10),
    'time-zone-autodetect': 'true',
    'time-zone-name': 'Africa/Nairobi',
    'gmt-offset': '+03:00',
    'dst-active': 'false',
  };
}

/** `/system/resource` of a CHR running `version`, up for `uptimeSeconds`. */
export function resourceRow(version: string, uptimeSeconds: number): Row {
  const major = version.startsWith('6.') ? 'long-term' : 'stable';
  return {
    uptime: formatDuration(uptimeSeconds),
    version: `${version} (${major})`,
    'build-time': '2025-03-11 11:59:04',
    'factory-software': '7.1',
    'free-memory': '912482304',
    'total-memory': '1073741824',
    cpu: 'QEMU',
    'cpu-count': '1',
    'cpu-frequency': '2400',
    'cpu-load': '0',
    'free-hdd-space': '83648512',
    'total-hdd-space': '134217728',
    'architecture-name': 'x86_64',
    'board-name': 'CHR',
    platform: 'MikroTik',
  };
}
