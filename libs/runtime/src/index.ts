export * from './runtime';
export * from './signing';
export * from './checkpoints';
export * from './statement';
export * from './statement-text';
export * from './preview';
export * from './feed';
export * from './webhooks';
