#!/usr/bin/env node
// Runs the controller from its TypeScript sources through tsx.
import { register } from 'tsx/esm/api';
register();
await import('../src/main.ts');
