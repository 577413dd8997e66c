/**
 * Every rule id of RULES.md with a short title, so that an explanation reads as words (the id stays
 * beside it). One map for the server's statements and the service desk, which imports it (with
 * RULE_OF and FIELD_LABELS) from /dashboard/labels.js, rendered from these maps at start-up; a test
 * checks it against RULES.md.
 */
export const RULE_TITLES: Readonly<Record<string, string>> = {
  T1: 'Windows are whole days, half-open [from, until)',
  T2: 'Calendar arithmetic in the region\'s zone',
  T3: 'The 48-hour, 30-day and 72-hour windows are exact',
  T4: 'Business time and recorded time',
  C1: 'Model categories',
  C2: 'Flyaway-capable models',
  C3: 'Safe-use-reward models',
  C4: 'International-coverage models',
  C5: 'Sales regions',
  C6: 'Replacement fees by model, region and ordinal',
  C7: 'Policy versions (V2021, V2023)',
  C8: 'Official warranty period',
  C9: 'Discounted-repair and factory-maintenance quotas',
  P1: 'Plan types',
  P2: 'A chain covers at most 36 months',
  P3: 'One plan chain per device in its life',
  P4: 'First-purchase window after activation',
  P5: 'Plan and product from the same region',
  P6: 'Effective date by sales channel',
  P7: 'No plan for a unit with an inherited plan',
  W1: '1-Year plan windows',
  W2: '2-Year plan windows and extended warranty',
  W3: 'Renewals and Care Refresh+ start where the plan ends',
  W4: 'Safe-use reward',
  W5: 'Warranty extensions are recorded when granted',
  W6: 'Quotas belong to each plan term',
  N1: 'A renewal needs a plan chain',
  N2: 'Renewal up to 15 days after expiry',
  N3: 'Care Refresh+ conditions',
  R1: 'Replacement quotas',
  R2: 'Incident and claim inside the replacement window',
  R3: 'Only the unit bound to the plan can claim',
  R4: 'Flyaway conditions',
  R5: 'Exclusions',
  R6: 'Service region',
  R7: 'Quota reserved at approval; fee by ordinal',
  R8: 'Standard-warranty repairs use no balance',
  R9: 'Express replacement',
  R10: 'Which refusal answers first',
  I1: 'Replacement units inherit the plan',
  I2: 'Inheritance down a chain of replacements',
  I3: 'A replacement bought outside the plan is a new device',
  X1: 'Corrections void or amend, never edit',
  X2: 'Conflicts after a correction are flagged',
};

/** "R5 Exclusions", or the id alone when it has no title. */
export function ruleTitle(id: string): string {
  return Object.prototype.hasOwnProperty.call(RULE_TITLES, id) ? RULE_TITLES[id] : id;
}

/** The entitlement view's fields in words, for the desk's "why" table and the statements. */
export const FIELD_LABELS: Readonly<Record<string, string>> = {
  coverage: 'Coverage',
  policyVersion: 'Policy version',
  chain: 'Plan chain',
  inheritedFrom: 'Inherited from',
  transferredTo: 'Transferred to',
  'replacement.window': 'Replacement window',
  'replacement.remaining': 'Replacements left',
  'replacement.used': 'Replacements used',
  'replacement.flyawayRemaining': 'Flyaway replacements left',
  'replacement.nextFee': 'Next replacement fee',
  'warranty.official': 'Official warranty',
  'warranty.coveredUntil': 'Warranty covered until',
  'warranty.extensions': 'Warranty extensions',
  safeUseReward: 'Safe-use reward',
  'discountedRepairs.remaining': 'Discounted repairs left',
  'factoryMaintenance.remaining': 'Factory maintenance left',
  renewal: 'Renewal',
  carePlus: 'Care Refresh+',
  conflicts: 'Conflicts',
  corrections: 'Corrections',
};
