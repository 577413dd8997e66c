export * from './runtime';
export * from './signing';
export * from './checkpoints';
export * from './feed';
export * from './webhooks';
