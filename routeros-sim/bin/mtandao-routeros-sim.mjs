#!/usr/bin/env node
// Runs the TypeScript emulator through tsx's loader (registered in this process, no build step).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
