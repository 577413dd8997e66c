/**
 * A strict parser of the Prometheus text exposition format (0.0.4), for tests: prom-client has no
 * parser of its own. It throws on the first thing a scraper or promtool would refuse or flag: a
 * family without HELP or TYPE (or with two), a TYPE after its samples, a family's samples not
 * together, names or label names outside [a-zA-Z_:][a-zA-Z0-9_:]* / [a-zA-Z_][a-zA-Z0-9_]*, a
 * label value with an escape other than \\ \" \n (or a raw newline), a value that is not a float
 * (as Go's ParseFloat reads it, which is what the format says), a counter not ending in _total, a
 * gauge (or histogram, summary) ending in _total, a sample name that is not its family's, a series
 * given twice, histogram buckets that are not cumulative or lack +Inf (which must equal _count).
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FLOAT = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export function parseExposition(text: string): Map<string, Family> {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, Family>();
  const helps = new Set<string>();
  const typed = new Set<string>();
  const closed = new Set<string>();
  const series = new Set<string>();
  let current: string | null = null;
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((line, index) => {
    const where = `line ${index + 1} (${line.slice(0, 80)})`;
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) throw new Error(`${where}: a comment other than # HELP or # TYPE`);
      const [, kind, name, rest] = m;
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: metric name ${name} is not [a-zA-Z_:][a-zA-Z0-9_:]*`);
      if (closed.has(name)) throw new Error(`${where}: ${name} comes back after another family`);
      const family = families.get(name) ?? { name, help: '', type: 'untyped' as MetricType, samples: [] };
      if (family.samples.length > 0) throw new Error(`${where}: # ${kind} of ${name} after its samples`);
      if (kind === 'HELP') {
        if (helps.has(name)) throw new Error(`${where}: a second HELP for ${name}`);
        helps.add(name);
        family.help = unescapeHelp(rest, where);
      } else {
        if (typed.has(name)) throw new Error(`${where}: a second TYPE for ${name}`);
        if (!TYPES.has(rest as MetricType)) throw new Error(`${where}: unknown type ${rest}`);
        family.type = rest as MetricType;
        typed.add(name);
      }
      families.set(name, family);
      if (current !== null && current !== name) closed.add(current);
      current = name;
      return;
    }
    const sample = parseSample(line, where);
    const family = current === null ? undefined : families.get(current);
    if (!family || !typed.has(family.name)) throw new Error(`${where}: a sample before its family's TYPE`);
    if (!belongsTo(sample, family)) throw new Error(`${where}: ${sample.name} is not a sample of the ${family.type} ${family.name}`);
    const key = `${sample.name}{${Object.entries(sample.labels).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
    if (series.has(key)) throw new Error(`${where}: the series ${key} is given twice`);
    series.add(key);
    family.samples.push(sample);
  });
  for (const family of families.values()) {
    if (!helps.has(family.name)) throw new Error(`${family.name} has no HELP`);
    if (!typed.has(family.name)) throw new Error(`${family.name} has no TYPE`);
    if (family.type === 'counter' && !family.name.endsWith('_total')) throw new Error(`the counter ${family.name} does not end in _total`);
    if (family.type !== 'counter' && family.name.endsWith('_total')) throw new Error(`the ${family.type} ${family.name} ends in _total (only counters may)`);
    if (family.type === 'counter' && family.samples.some((s) => s.value < 0 || Number.isNaN(s.value))) throw new Error(`the counter ${family.name} has a negative or NaN value`);
    if (family.type === 'histogram') checkHistogram(family);
  }
  return families;
}

function belongsTo(sample: Sample, family: Family): boolean {
  const n = family.name;
  switch (family.type) {
    case 'histogram':
      return (sample.name === `${n}_bucket` && 'le' in sample.labels) || sample.name === `${n}_sum` || sample.name === `${n}_count`;
    case 'summary':
      return sample.name === n || sample.name === `${n}_sum` || sample.name === `${n}_count`;
    default:
      return sample.name === n;
  }
}

function checkHistogram(family: Family): void {
  const groups = new Map<string, { buckets: { le: number; value: number }[]; count?: number }>();
  const keyOf = (labels: Record<string, string>) => JSON.stringify(Object.entries(labels).filter(([k]) => k !== 'le').sort());
  for (const s of family.samples) {
    const group = groups.get(keyOf(s.labels)) ?? { buckets: [] };
    groups.set(keyOf(s.labels), group);
    if (s.name.endsWith('_bucket')) group.buckets.push({ le: parseValue(s.labels.le, `le of ${family.name}`), value: s.value });
    if (s.name.endsWith('_count')) group.count = s.value;
  }
  for (const [labels, group] of groups) {
    const sorted = [...group.buckets].sort((a, b) => a.le - b.le);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i].value < sorted[i - 1].value) throw new Error(`${family.name}${labels}: buckets are not cumulative`);
    }
    const inf = sorted.at(-1);
    if (!inf || inf.le !== Infinity) throw new Error(`${family.name}${labels}: no +Inf bucket`);
    if (group.count !== inf.value) throw new Error(`${family.name}${labels}: _count ${group.count} is not the +Inf bucket ${inf.value}`);
  }
}

function parseSample(line: string, where: string): Sample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
  if (!m) throw new Error(`${where}: the metric name is not [a-zA-Z_:][a-zA-Z0-9_:]*`);
  const name = m[1];
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const ln = /^[^=]*/.exec(line.slice(i))![0];
      if (!LABEL_NAME.test(ln) || ln.startsWith('__')) throw new Error(`${where}: label name "${ln}" is not [a-zA-Z_][a-zA-Z0-9_]* (or is reserved)`);
      if (ln in labels) throw new Error(`${where}: label ${ln} twice`);
      i += ln.length;
      if (line[i] !== '=' || line[i + 1] !== '"') throw new Error(`${where}: label ${ln} has no ="value"`);
      i += 2;
      let value = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) throw new Error(`${where}: unterminated label value`);
        if (c === '"') break;
        if (c === '\\') {
          const e = line[i + 1];
          if (e === '\\') value += '\\';
          else if (e === '"') value += '"';
          else if (e === 'n') value += '\n';
          else throw new Error(`${where}: invalid escape \\${e ?? ''} in a label value`);
          i += 2;
          continue;
        }
        value += c;
        i++;
      }
      labels[ln] = value;
      i++;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') throw new Error(`${where}: expected , or } after a label`);
    }
    i++;
  }
  if (line[i] !== ' ') throw new Error(`${where}: expected a space before the value`);
  const parts = line.slice(i + 1).split(' ');
  if (parts.length > 2 || parts[0] === '') throw new Error(`${where}: expected a value and at most a timestamp`);
  if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`${where}: the timestamp is not an integer`);
  return { name, labels, value: parseValue(parts[0], where) };
}

/** A float as Go's ParseFloat reads it (the format's definition): digits, or NaN / [+-]Inf / [+-]Infinity in any case. */
function parseValue(text: string, where: string): number {
  if (/^\+?inf(inity)?$/i.test(text)) return Infinity;
  if (/^-inf(inity)?$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  if (!FLOAT.test(text)) throw new Error(`${where}: "${text}" is not a float`);
  return Number(text);
}

function unescapeHelp(text: string, where: string): string {
  return text.replace(/\\(.?)/g, (_, e: string) => {
    if (e === '\\') return '\\';
    if (e === 'n') return '\n';
    throw new Error(`${where}: invalid escape \\${e} in HELP`);
  });
}

/** The value of one series: the family's sample with exactly these labels (0 when absent, for counters that have not counted yet). */
export function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = families.get(name);
  const sample = family?.samples.find((s) => s.name === name && Object.keys(s.labels).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return sample?.value;
}
