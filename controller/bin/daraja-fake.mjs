#!/usr/bin/env node
// A local Safaricom Daraja for the demo and tests: `daraja-fake [--port 8089] [--passkey P]`.
// Compiled (dist/) by default; tests run the sources with --conditions=mtandao-source --import tsx.
await import('#daraja-fake');
