export * from './ids';
export * from './local-store';
export * from './ledger';
