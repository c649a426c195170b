// Browser-safe exports: schemas, types and pure helpers. Signing lives in `@mtandao/protocol/signing`.
export * from './enums.ts';
export * from './validation.ts';
export * from './desired-state.ts';
export * from './commands.ts';
export * from './hotspot.ts';
export * from './envelope.ts';
export * from './agent-messages.ts';
export * from './canonical.ts';
export * from './identity.ts';
