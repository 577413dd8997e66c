/**
 * The words of an entitlement statement: each field of the view (each explanation entry) as a
 * sentence, the rules behind it with their titles (RULE_TITLES, the same map as the dashboard's),
 * and the facts behind it with their business and recorded times. Pure: the view and the events in,
 * the lines out, so the HTML page and the JSON say the same thing.
 */
import { businessTimeOf, EntitlementView, Fact, FactSet, FIELD_LABELS, ruleTitle } from '@careledger/domain';

export interface StatementFact {
  eventId: string;
  type: string;
  position: string;
  /** When it happened in the world (RULES T4), as corrected; null for corrections (they apply from their recorded time). */
  businessTime: string | null;
  /** When the ledger recorded it. */
  recordedAt: string;
  /** The corrections that amended it, oldest first (X1). */
  amendedBy: string[];
}

export interface StatementLine {
  /** The view's field (dotted path, as in its explanation). */
  field: string;
  label: string;
  /** The field explained in a sentence. */
  text: string;
  rules: { id: string; title: string }[];
  facts: StatementFact[];
}

const TERM_WORDS: Record<string, string> = { '1y': '1-Year plan', '2y': '2-Year plan', renewal: '1-Year renewal', 'care-plus': 'Care Refresh+' };
const EXTENSION_WORDS: Record<string, string> = {
  'plan-year-2': 'extended warranty of the 2-Year plan',
  'care-plus': 'Care Refresh+ warranty year',
  'safe-use-reward': 'safe-use reward',
  goodwill: 'goodwill extension',
};
const COVERAGE_WORDS: Record<string, string> = {
  active: 'active: a plan term covers the unit',
  pending: 'pending: the plan is bought but not in effect yet',
  expired: 'expired: the plan chain has ended',
  none: 'none: no plan chain holds this unit',
  transferred: 'transferred: the plan moved to a replacement unit, so this unit is no longer covered',
};

const money = (m: { amount: string; currency: string } | null) => (m ? `${m.amount} ${m.currency}` : null);
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const window = (w: { from: string; until: string } | null) => (w ? `from ${w.from} until ${w.until} (the first day not covered)` : null);

/** The sentence for one field of the view. */
export function fieldSentence(field: string, v: EntitlementView, codeRule: (code: string) => string | null): string {
  const blocked = (code: string | null) => {
    // Care Refresh+ needs a replacement left under N3 (the code is R1's, the rule N3's)
    const rule = code === 'NoReplacementsRemaining' && field === 'carePlus' ? 'N3' : code ? codeRule(code) : null;
    return code ? `${code}${rule ? ` (rule ${rule}, ${ruleTitle(rule)})` : ''}` : 'a rule';
  };
  switch (field) {
    case 'coverage':
      return `On ${v.at}, as the ledger knew it at ${v.knownAt}, the coverage of ${v.serial} is ${COVERAGE_WORDS[v.coverage] ?? v.coverage}.`;
    case 'policyVersion':
      return `The plan ${v.planId ?? ''} falls under policy version ${v.policyVersion ?? '—'}, the version in force on its purchase date, for its whole life.`;
    case 'chain':
      return v.chain.length === 0
        ? 'No plan term is in effect yet.'
        : `The plan chain: ${v.chain.map((t) => `${TERM_WORDS[t.kind] ?? t.kind} ${window(t)}`).join('; then ')}. Windows start at 0:00 of their first day in the plan region's zone.`;
    case 'inheritedFrom':
      return `${v.serial} inherited the plan from ${v.inheritedFrom.join(', then ')}: each was replaced under the plan and the replacement took over its coverage.`;
    case 'transferredTo':
      return `The plan moved from ${v.serial} to ${v.transferredTo ?? '—'}, issued as its replacement: ${v.serial} is no longer covered by it.`;
    case 'replacement.window':
      return v.replacement.window
        ? `Replacement service in the term in force at this time runs ${window(v.replacement.window)}.`
        : 'No replacement window is in force at this time.';
    case 'replacement.remaining':
      return `${plural(v.replacement.remaining, 'replacement')} left in this term; ${plural(v.replacement.used, 'replacement')} used (approved and not denied or cancelled).`;
    case 'replacement.flyawayRemaining':
      return `${plural(v.replacement.flyawayRemaining, 'flyaway replacement')} left in this term.`;
    case 'replacement.nextFee': {
      const damage = money(v.replacement.nextFee.damage);
      const flyaway = money(v.replacement.nextFee.flyaway);
      if (!damage && !flyaway) return 'No further replacement is available in this term, so no fee applies.';
      return `The next replacement costs ${damage ?? '—'} for damage${flyaway ? ` or ${flyaway} for a flyaway` : ''}.`;
    }
    case 'warranty.official':
      return v.warranty.official ? `The official warranty runs ${window(v.warranty.official)}, counted from the original unit's activation.` : 'The official warranty is not known (no activation recorded).';
    case 'warranty.coveredUntil':
      return v.warranty.coveredUntil
        ? `Warranty coverage is known to last until ${v.warranty.coveredUntil} (exclusive): the official warranty, plan terms and extensions together.`
        : 'The unit has no warranty coverage at this time.';
    case 'warranty.extensions':
      return v.warranty.extensions.length === 0
        ? 'No warranty extension applies.'
        : `Warranty extensions: ${v.warranty.extensions.map((x) => `the ${EXTENSION_WORDS[x.kind] ?? x.kind} ${window(x)}, ${x.status}`).join('; ')}.`;
    case 'safeUseReward':
      return `The safe-use reward is ${v.safeUseReward.status}${v.safeUseReward.window ? `, ${window(v.safeUseReward.window)}` : ''}.`;
    case 'discountedRepairs.remaining':
      return `${plural(v.discountedRepairs.remaining, 'discounted repair')} left in this term.`;
    case 'factoryMaintenance.remaining':
      return `${plural(v.factoryMaintenance.remaining, 'factory maintenance', 'factory maintenances')} left in this term.`;
    case 'renewal':
      return v.renewal.eligible
        ? `A 1-Year renewal is possible until ${v.renewal.deadline}.`
        : `A renewal would be refused now: ${blocked(v.renewal.blockedBy)}${v.renewal.deadline ? `; the renewal deadline is ${v.renewal.deadline}` : ''}.`;
    case 'carePlus':
      return v.carePlus.eligible ? 'Care Refresh+ may be bought now.' : `Care Refresh+ would be refused now: ${blocked(v.carePlus.blockedBy)}.`;
    case 'conflicts':
      return v.conflicts.length === 0
        ? 'No conflict.'
        : `${plural(v.conflicts.length, 'conflict')} for a person to settle: ${v.conflicts.map((c) => `${c.detail} (rule ${c.rule})`).join(' ')}`;
    case 'corrections':
      return 'Corrections were recorded against facts of this unit or its chain: before each correction\'s recorded time history reads as it was then known, after it as corrected.';
    default:
      return `${field}: ${JSON.stringify(valueAt(v, field))}.`;
  }
}

/** The value at a dotted path of the view. */
export function valueAt(view: unknown, path: string): unknown {
  let value: unknown = view;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Every fact (and correction) of a fact set by id, as a statement names it. */
export function statementFacts(set: FactSet): Map<string, StatementFact> {
  const out = new Map<string, StatementFact>();
  const add = (f: Fact, businessTime: string | null) =>
    out.set(f.eventId, { eventId: f.eventId, type: f.event.type, position: f.position.toString(), businessTime, recordedAt: f.recordedAt, amendedBy: [...f.amendedBy] });
  for (const f of set.facts) add(f, businessTimeOf(f.event));
  for (const c of set.corrections) add(c, null);
  return out;
}

/** The view's explanation as sentences, with rule titles and the facts behind each field. */
export function statementLines(view: EntitlementView, facts: Map<string, StatementFact>, codeRule: (code: string) => string | null): StatementLine[] {
  return view.explanation.map((entry) => ({
    field: entry.field,
    label: FIELD_LABELS[entry.field] ?? entry.field,
    text: fieldSentence(entry.field, view, codeRule),
    rules: entry.rules.map((id) => ({ id, title: ruleTitle(id) })),
    facts: entry.eventIds.map(
      (id) => facts.get(id) ?? { eventId: id, type: 'unknown', position: '', businessTime: null, recordedAt: '', amendedBy: [] },
    ),
  }));
}
