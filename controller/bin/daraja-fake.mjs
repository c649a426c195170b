#!/usr/bin/env node
// A local Safaricom Daraja for the demo and tests: `daraja-fake [--port 8089] [--passkey P]`.
import { register } from 'tsx/esm/api';
register();
await import('../src/mpesa/fake/main.ts');
