#!/usr/bin/env node
// Runs the compiled controller (dist/, built by `npm run build`); tests and dev run the TypeScript
// sources instead: node --conditions=mtandao-source --import tsx bin/mtandao-controller.mjs.
await import('#main');
