export * from './runtime';
export * from './signing';
export * from './checkpoints';
