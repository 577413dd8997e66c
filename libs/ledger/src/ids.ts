import { randomUUID } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';

/** The namespace of CareLedger's name-based (v5) UUIDs. */
const NAMESPACE = '6f1c2b7e-4b7d-5c59-9a1e-3c8f0d2a9b41';

/** A stable UUID for a name: retried commands produce the same ids, so the store dedups them. */
export function stableId(name: string): string {
  return uuidv5(name, NAMESPACE);
}

export function randomId(): string {
  return randomUUID();
}

/** planId of a purchase that did not name one: derived from its order, so a retried order lands on the same plan. */
export const planIdForOrder = (orderId: string): string => stableId(`plan:${orderId}`);

/** claimId of a service center's claim reference. */
export const claimIdFor = (serviceCenterId: string, claimRef: string): string => stableId(`claim:${serviceCenterId}:${claimRef}`);
