export * from './memory-ledger';
export * from './given';
export * from './scenario';
