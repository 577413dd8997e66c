export * from './read-store';
export * from './models';
export * from './projector';
export * from './runner';
export * from './read-models';
export * from './rebuild';
