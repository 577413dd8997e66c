import { centersSchema } from './centers';
import { claimsSchema } from './claims';
import { decisionsSchema } from './decisions';
import { entitlementsSchema } from './entitlements';
import { logSchema } from './log';
import type { ReadModelSchema } from './model';
import { plansSchema } from './plans';

/** Every read model of the node, in the order their evolve runs (the log copy first). */
export const MODELS: readonly ReadModelSchema[] = [logSchema, plansSchema, centersSchema, claimsSchema, entitlementsSchema, decisionsSchema];

export * from './model';
export * from './log';
export * from './plans';
export * from './centers';
export * from './claims';
export * from './entitlements';
export * from './decisions';
export * from './plan-world';
