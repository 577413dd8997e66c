export * from './memory-ledger';
export * from './given';
