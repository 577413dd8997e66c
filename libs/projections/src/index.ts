export * from './schema';
export * from './projector';
export * from './runner';
export * from './queries';
export * from './rebuild';
