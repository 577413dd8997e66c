export * from './ledger';
export * from './decisions';
export * from './ids';
export * from './legacy';
