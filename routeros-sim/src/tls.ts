import { getDiffieHellman } from 'node:crypto';

/**
 * RouterOS serves api-ssl without a certificate through anonymous Diffie-Hellman (ADH) cipher
 * suites; the emulator does the same unless given a key and certificate. The DH group is RFC 3526
 * group 14, written out as PEM here so no `openssl dhparam` run is needed.
 */
export const ADH_CIPHERS = 'ADH-AES256-GCM-SHA384:ADH-AES128-GCM-SHA256:ADH-AES256-SHA256:@SECLEVEL=0';

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function derInteger(value: Buffer): Buffer {
  const body = (value[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), value]) : value;
  return Buffer.concat([Buffer.from([0x02]), derLength(body.length), body]);
}

/** PKCS#3 DH parameters (modp14) as PEM. */
export function dhParamsPem(): string {
  const dh = getDiffieHellman('modp14');
  const body = Buffer.concat([derInteger(dh.getPrime()), derInteger(dh.getGenerator())]);
  const der = Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
  const b64 = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trimEnd();
  return `-----BEGIN DH PARAMETERS-----\n${b64}\n-----END DH PARAMETERS-----\n`;
}
