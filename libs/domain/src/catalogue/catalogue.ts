/**
 * The catalogue (RULES section 2): products, plans, fees and policy versions as data with
 * effective dates. It ships as catalogue.v1.json and can be replaced by configuration
 * (CARELEDGER_CATALOGUE). Nothing here is guessed from a model's name.
 */
import { Refusal } from '../codes';
import { IsoDate } from '../time';

export type Region = 'US' | 'CA' | 'EU' | 'UK' | 'CH' | 'NO' | 'AU' | 'HK' | 'TW' | 'JP' | 'KR' | 'CN';
export const REGIONS: readonly Region[] = ['US', 'CA', 'EU', 'UK', 'CH', 'NO', 'AU', 'HK', 'TW', 'JP', 'KR', 'CN'];
export type Category = 'aircraft' | 'gimbal' | 'handheld';
export type PlanTerm = '1y' | '2y';
export type TermKind = '1y' | '2y' | 'renewal' | 'care-plus';
export type PolicyVersionId = string;

export interface Money {
  amount: string;
  currency: string;
}

export interface RegionInfo {
  zone: string;
  currency: string;
  officialWarrantyMonths: number;
}

export interface ServiceQuota {
  discountedRepairs: number;
  factoryMaintenance: number;
}

export interface ModelInfo {
  name: string;
  category: Category;
  flyaway: boolean;
  safeUseReward: boolean;
  international: boolean;
  /** Plan terms sold for the model (P1). */
  plans: PlanTerm[];
  /** C9 quotas per plan kind; renewals use '1y'. Missing means 0. */
  quotas: Partial<Record<'1y' | '2y' | 'care-plus', ServiceQuota>>;
  /** P6: unactivated bundles of this model take effect this many days after delivery. */
  bundleAutoStartDays: number | null;
  /** C8 per-model override of the region's official warranty, by region. */
  officialWarrantyMonths?: Partial<Record<Region, number>>;
}

export interface ReplacementQuota {
  replacements: number;
  flyaway: number;
}

export interface PolicyVersion {
  id: PolicyVersionId;
  /** Purchases on or after this date (in the plan region's zone) fall under this version. */
  from: IsoDate | null;
  plans: Record<'1y' | '2y' | 'care-plus', ReplacementQuota>;
  carePlusOnSale: boolean;
  /** W4: under V2021 a discounted repair in the first term also forfeits the safe-use reward. */
  discountedRepairForfeitsReward: boolean;
}

export interface FeeTable {
  model: string;
  region: Region;
  policyVersions: PolicyVersionId[];
  currency: string;
  /** Damage fee by ordinal (1st, 2nd, ...); beyond the last, the last applies. */
  damage: string[];
  /** The flyaway fee, for flyaway-capable models. */
  flyaway: string | null;
  /** True when any point of the table is a placeholder (no public source states it). */
  placeholder: boolean;
  /** A free-text note on where the table comes from. */
  source?: string;
  /**
   * Where each point comes from, point by point: the URLs of the public pages (or the seed keys
   * of RULES.md, e.g. S003) that state it; null for a placeholder point. Absent: every point is a
   * placeholder, or the catalogue was supplied by configuration without sources.
   */
  sources?: FeeSources;
}

export interface FeeSources {
  /** One entry per damage fee (same order as `damage`). */
  damage: (string[] | null)[];
  /** The flyaway fee's sources; null when it is a placeholder or there is no flyaway fee. */
  flyaway: string[] | null;
}

/** What a customer paid for a plan, as a public page states it. It informs; no rule reads it. */
export interface PlanPrice {
  model: string;
  region: Region;
  /** The plan the page sells; null when the page does not say. */
  term: PlanTerm | null;
  price: Money;
  /** The page's URL (or a seed key). */
  source: string;
  /** When the page says it was stated, if it does. */
  date: string | null;
}

export interface CatalogueRules {
  renewalGraceDays: number;
  maxChainMonths: number;
  aircraftWindowHours: number;
  handheldWindowDays: number;
  verificationWindowHours: number;
  /** Days after the first term's replacement window ends before the safe-use reward sweep grants it. */
  rewardSettlementDays: number;
  /** Clock skew tolerated before a business instant counts as in the future (T4). */
  futureSkewMinutes: number;
  excludedCauses: string[];
}

export interface CatalogueData {
  version: string;
  regions: Record<Region, RegionInfo>;
  policyVersions: PolicyVersion[];
  rules: CatalogueRules;
  models: Record<string, Omit<ModelInfo, 'name'>>;
  fees: FeeTable[];
  /** Plan prices stated on public pages, with their sources (optional). */
  planPrices?: PlanPrice[];
}

export class Catalogue {
  private readonly models = new Map<string, ModelInfo>();
  private readonly fees = new Map<string, FeeTable>();
  readonly policyVersions: PolicyVersion[];

  constructor(readonly data: CatalogueData) {
    for (const [name, info] of Object.entries(data.models)) {
      this.models.set(normaliseModelName(name), { ...info, name });
    }
    for (const table of data.fees) {
      for (const pv of table.policyVersions) this.fees.set(feeKey(table.model, table.region, pv), table);
    }
    this.policyVersions = [...data.policyVersions].sort((a, b) => (a.from ?? '').localeCompare(b.from ?? ''));
    validateCatalogue(this);
  }

  get version(): string {
    return this.data.version;
  }

  get rules(): CatalogueRules {
    return this.data.rules;
  }

  modelNames(): string[] {
    return [...this.models.values()].map((m) => m.name);
  }

  findModel(name: string): ModelInfo | undefined {
    return this.models.get(normaliseModelName(name));
  }

  /** The model, or the UnknownModel refusal (C1). */
  model(name: string): ModelInfo {
    const found = this.findModel(name);
    if (!found) throw new Refusal('UnknownModel', `"${name}" is not a model in catalogue ${this.version}.`);
    return found;
  }

  region(code: string): RegionInfo {
    const info = this.data.regions[code as Region];
    if (!info) throw new RangeError(`unknown region ${code}`);
    return info;
  }

  zone(region: string): string {
    return this.region(region).zone;
  }

  /** The policy version in force on a purchase date (C7). */
  policyVersionOn(date: IsoDate): PolicyVersion {
    let current = this.policyVersions[0];
    for (const pv of this.policyVersions) if (pv.from === null || pv.from <= date) current = pv;
    return current;
  }

  policyVersion(id: PolicyVersionId): PolicyVersion {
    const pv = this.policyVersions.find((p) => p.id === id);
    if (!pv) throw new RangeError(`unknown policy version ${id}`);
    return pv;
  }

  officialWarrantyMonths(model: ModelInfo, region: string): number {
    return model.officialWarrantyMonths?.[region as Region] ?? this.region(region).officialWarrantyMonths;
  }

  feeTable(model: string, region: string, policyVersion: PolicyVersionId): FeeTable {
    const table = this.fees.get(feeKey(this.model(model).name, region, policyVersion));
    if (!table) throw new RangeError(`no fee table for ${model} in ${region} under ${policyVersion}`);
    return table;
  }

  /** The plan prices the catalogue records for a model in a region (any term), as stated by their sources. */
  planPrices(model: string, region: string): PlanPrice[] {
    const name = normaliseModelName(model);
    return (this.data.planPrices ?? []).filter((p) => normaliseModelName(p.model) === name && p.region === region);
  }

  /** C6: the fee of the n-th (1-based) replacement of a kind. */
  fee(model: string, region: string, policyVersion: PolicyVersionId, kind: 'damage' | 'flyaway', ordinal: number): Money {
    const table = this.feeTable(model, region, policyVersion);
    if (kind === 'flyaway') {
      if (table.flyaway === null) throw new RangeError(`${model} has no flyaway fee in ${region}`);
      return { amount: table.flyaway, currency: table.currency };
    }
    const index = Math.min(Math.max(ordinal, 1), table.damage.length) - 1;
    return { amount: table.damage[index], currency: table.currency };
  }
}

export function normaliseModelName(name: string): string {
  return name
    .trim()
    .replace(/^dji\s+/i, '')
    .replace(/\s+/g, ' ')
    .toLowerCase();
}

function feeKey(model: string, region: string, policyVersion: string): string {
  return `${normaliseModelName(model)}|${region}|${policyVersion}`;
}

/** Every model has a fee table in every region under every policy version (C6); zones are valid. */
function validateCatalogue(catalogue: Catalogue): void {
  const problems: string[] = [];
  for (const region of REGIONS) {
    const info = catalogue.data.regions[region];
    if (!info) problems.push(`region ${region} missing`);
    else if (!isValidZone(info.zone)) problems.push(`region ${region} has an invalid zone ${info.zone}`);
  }
  for (const model of catalogue.modelNames()) {
    const info = catalogue.model(model);
    for (const region of REGIONS) {
      for (const pv of catalogue.policyVersions) {
        try {
          const table = catalogue.feeTable(model, region, pv.id);
          if (table.damage.length === 0) problems.push(`${model}/${region}/${pv.id}: no damage fee`);
          if (info.flyaway && table.flyaway === null) problems.push(`${model}/${region}/${pv.id}: no flyaway fee`);
          problems.push(...sourceProblems(table).map((p) => `${model}/${region}/${pv.id}: ${p}`));
        } catch {
          problems.push(`${model}/${region}/${pv.id}: no fee table`);
        }
      }
    }
  }
  for (const [i, p] of (catalogue.data.planPrices ?? []).entries()) {
    if (!catalogue.findModel(p.model)) problems.push(`planPrices[${i}]: unknown model ${p.model}`);
    if (!REGIONS.includes(p.region)) problems.push(`planPrices[${i}]: unknown region ${p.region}`);
    if (!p.source) problems.push(`planPrices[${i}]: no source`);
  }
  if (problems.length > 0) throw new Error(`catalogue ${catalogue.version} is incomplete:\n${problems.slice(0, 20).join('\n')}`);
}

/** A table's per-point sources match its points, and `placeholder` says whether any point lacks one. */
function sourceProblems(table: FeeTable): string[] {
  const sources = table.sources;
  if (!sources) return [];
  const problems: string[] = [];
  if (sources.damage.length !== table.damage.length) problems.push(`${sources.damage.length} damage sources for ${table.damage.length} damage fees`);
  if (table.flyaway === null && sources.flyaway !== null) problems.push('a flyaway source without a flyaway fee');
  const points = [...sources.damage, ...(table.flyaway === null ? [] : [sources.flyaway])];
  if (points.some((s) => s !== null && s.length === 0)) problems.push('an empty source list (use null for a placeholder point)');
  const anyPlaceholder = points.some((s) => s === null);
  if (table.placeholder !== anyPlaceholder) problems.push(`placeholder is ${table.placeholder} but ${anyPlaceholder ? 'a point has no source' : 'every point has a source'}`);
  return problems;
}

function isValidZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
