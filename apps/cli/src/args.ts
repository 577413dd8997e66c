/**
 * The command line's grammar: every command, its options and their checks, and the usage texts.
 * Parsing never throws: a wrong command line becomes a message and exit code 2, `--help` the
 * command's usage and exit code 0, `--version` the version. Instants and dates are checked as the
 * API checks them (isInstant, isDate of @careledger/domain).
 *
 * Exit codes: 0 done; 1 the command ran and found a problem (a broken chain, an unknown serial,
 * a store that is not empty); 2 the command line is wrong (unknown command or option, a missing or
 * malformed value, a file or store that does not exist); 3 (verify --checkpoints) the log does not
 * hold a checkpoint saved outside it (truncated or rewritten), or a saved checkpoint's signature
 * does not verify. Nothing prints a stack trace unless CARELEDGER_DEBUG=1.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs, ParseArgsConfig } from 'node:util';
import { isDate, isInstant } from '@careledger/domain';

export const EXIT = { ok: 0, failed: 1, usage: 2, checkpoints: 3 } as const;

/** The API's serial pattern (apps/api/src/dto/validators.ts SERIAL). */
const SERIAL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

type Check = (value: string) => string | null;

interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** The value's name in the usage (FILE, T, N...). */
  arg?: string;
  help: string;
  check?: Check;
  /** Accepted but not shown (used between seed and its worker processes). */
  hidden?: boolean;
  /** Said when a required option is missing: why it is required. */
  whyRequired?: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** Longer notes printed under the options by `<command> --help`. */
  notes?: string;
  options: Record<string, OptionSpec>;
  required?: string[];
  /** Checks across options, after each one was checked alone. */
  crossCheck?: (values: Values) => string | null;
  /** Reads an existing store: refuse a --db that does not exist instead of creating an empty one. */
  needsStore?: boolean;
  /** One argument without an option name (verify-statement FILE), kept in values[key]. */
  positional?: { key: string; arg: string; help: string; check?: Check };
}

export type Values = Record<string, string | boolean | undefined>;

const instant: Check = (v) => (isInstant(v) ? null : 'must be an ISO-8601 instant with an offset, e.g. 2024-03-10T14:22:00-07:00');
const instantOrDate: Check = (v) =>
  isInstant(v) || isDate(v) ? null : 'must be an ISO-8601 instant with an offset (2024-03-10T14:22:00-07:00) or a date YYYY-MM-DD';
const serial: Check = (v) => (SERIAL.test(v) ? null : 'must be a serial: 1-64 letters, digits, dots, underscores or dashes');
const integer = (min: number, max = Number.MAX_SAFE_INTEGER): Check => (v) =>
  /^\d+$/.test(v) && Number(v) >= min && Number(v) <= max ? null : `must be a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}`;
const share: Check = (v) => (/^(0(\.\d+)?|1(\.0+)?)$/.test(v) ? null : 'must be a number from 0 to 1');

const STORE = {
  db: { type: 'string', arg: 'FILE', help: 'the embedded event store (default CARELEDGER_DB, else ./data/careledger.sqlite)' },
  'read-db': { type: 'string', arg: 'FILE', help: 'the read models (default CARELEDGER_READ_DB, else beside the store: *.read.sqlite)' },
} satisfies Record<string, OptionSpec>;
const HELP = { help: { type: 'boolean', short: 'h', help: 'print this help and exit' } } satisfies Record<string, OptionSpec>;
const isFile = (file: string) => existsSync(file) && statSync(file).isFile();

export const COMMANDS: Record<string, CommandSpec> = {
  rebuild: {
    name: 'rebuild',
    summary: 'rebuild the read models (fresh tables, then swap)',
    notes: [
      'The live tables keep answering while the new ones fill; then they are swapped in.',
      'The hash chain is verified first (from the point verified last time, as the server does): on a broken',
      'chain rebuild refuses (exit 1, naming the first broken position), because read models built from an',
      'altered log would serve it as the truth. --force rebuilds anyway and says so; settle the log first.',
    ].join('\n'),
    options: {
      ...STORE,
      force: { type: 'boolean', help: 'rebuild even when the hash chain is broken (prints a warning)' },
      ...HELP,
    },
    needsStore: true,
  },
  replay: {
    name: 'replay',
    summary: 'print the entitlement view of a unit and the rules and facts behind it',
    options: {
      serial: { type: 'string', arg: 'S', help: 'the unit\'s serial (required)', check: serial },
      at: { type: 'string', arg: 'T', help: 'business time: an instant with offset or a date YYYY-MM-DD (default now)', check: instantOrDate },
      'known-at': { type: 'string', arg: 'K', help: 'what the ledger had recorded by this instant (default now)', check: instant },
      json: { type: 'boolean', help: 'print the view as JSON' },
      ...STORE,
      ...HELP,
    },
    required: ['serial'],
    needsStore: true,
  },
  verify: {
    name: 'verify',
    summary: 'check the hash chain of the whole log, and signed checkpoints kept outside it',
    notes: [
      'The chain alone cannot tell a log truncated to an older copy, or rewritten with every hash recomputed:',
      'keep the signed checkpoints outside the store (an export job appending GET /v1/audit/checkpoints to a',
      'file on another machine, a notary, another organisation) and give them with --checkpoints FILE. FILE is',
      'the JSON GET /v1/audit/checkpoints answers ({ items }), a JSON array of checkpoints, or NDJSON (one',
      'checkpoint, or one such answer, per line). Each checkpoint\'s Ed25519 signature is checked with --public-key',
      '(PEM; several blocks for rotated keys; GET /v1/audit/public-key), else with the node\'s own key',
      '(CARELEDGER_SIGNING_KEY, CARELEDGER_SIGNING_KEY_FILE, else signing-key.pem beside CARELEDGER_TOKENS_FILE or',
      'the store), which is weaker: whoever can rewrite the store may have that key too. Then the log must hold',
      'each checkpoint\'s position with its hash.',
      'Exit code 0: the chain is intact (and every checkpoint holds); 1: the chain is broken (the first broken',
      'position is printed); 3: the log no longer holds a checkpoint (truncated below it, or rewritten: another',
      'hash there) or a checkpoint\'s signature does not verify, one sentence each naming the positions.',
    ].join('\n'),
    options: {
      checkpoints: { type: 'string', arg: 'FILE', help: 'signed checkpoints saved outside the store (JSON or NDJSON)', check: (v) => (isFile(v) ? null : 'is not a file') },
      'public-key': { type: 'string', arg: 'FILE', help: 'the key(s) that signed them, PEM (default: the node\'s own key, weaker)', check: (v) => (isFile(v) ? null : 'is not a file') },
      ...STORE,
      ...HELP,
    },
    crossCheck: (v) => (v['public-key'] !== undefined && v.checkpoints === undefined ? '--public-key verifies saved checkpoints: give --checkpoints FILE too' : null),
    needsStore: true,
  },
  export: {
    name: 'export',
    summary: 'write the log as NDJSON (default: stdout)',
    notes: [
      'Piping into a reader that stops early (`careledger export | head`) ends the export quietly.',
      'On a store with one global hash chain (SQLite, PostgreSQL) each line keeps its hash, and `import` checks it.',
      'On EventStoreDB each stream has its own chain: those hashes are left out (`import` recomputes the global',
      'chain); positions (byte offsets, with gaps) are kept, so the recomputed chain is EventStoreDB\'s rolling',
      'hash and the checkpoints signed there hold on the imported store.',
    ].join('\n'),
    options: { out: { type: 'string', arg: 'FILE', help: 'write to FILE instead of stdout' }, ...STORE, ...HELP },
    needsStore: true,
  },
  import: {
    name: 'import',
    summary: 'restore an NDJSON export into an empty embedded store',
    notes: 'Positions and hashes are kept; run `careledger rebuild` afterwards to project the log.',
    options: { in: { type: 'string', arg: 'FILE', help: 'the NDJSON export to restore (required)' }, ...STORE, ...HELP },
    required: ['in'],
    crossCheck: (v) => {
      const file = v.in as string;
      if (!existsSync(file)) return `--in ${file}: the file does not exist`;
      if (!statSync(file).isFile()) return `--in ${file}: not a file`;
      return null;
    },
  },
  sweep: {
    name: 'sweep',
    summary: 'record warranty extensions whose condition has settled',
    options: { now: { type: 'string', arg: 'T', help: 'the sweep\'s "now": an instant with offset (default the clock)', check: instant }, ...STORE, ...HELP },
    needsStore: true,
  },
  'verify-statement': {
    name: 'verify-statement',
    summary: 'check an entitlement statement (JSON) with the ledger operator\'s public key',
    notes: [
      'FILE is a statement as GET /v1/devices/{serial}/statement answers it with Accept: application/json.',
      'It verifies when every event\'s hash recomputes from its content, every event is covered by the signed',
      'checkpoint, the checkpoint\'s and the attestation\'s Ed25519 signatures verify with the key given, and',
      'folding the events with the domain gives the statement\'s view. Get the key from the ledger\'s operator',
      '(GET /v1/audit/public-key answers it as PEM): a statement\'s own key proves nothing by itself.',
      'Exit code 0: verified; 1: not verified (the first reason is printed); 2: a wrong command line.',
    ].join('\n'),
    positional: { key: 'file', arg: 'FILE', help: 'the statement, as JSON', check: (v) => (existsSync(v) && statSync(v).isFile() ? null : 'is not a file') },
    options: {
      'public-key': { type: 'string', arg: 'FILE', help: 'the operator\'s public key(s), PEM (several blocks for rotated keys); required unless --embedded-key' },
      'embedded-key': { type: 'boolean', help: 'check with the key inside the statement: proves only that it is internally consistent' },
      catalogue: { type: 'string', arg: 'FILE', help: 'the catalogue the statement names (default CARELEDGER_CATALOGUE, else the built-in one)' },
      json: { type: 'boolean', help: 'print the checks as JSON' },
      ...HELP,
    },
    crossCheck: (v) => {
      if (v['public-key'] && v['embedded-key']) return 'give --public-key FILE or --embedded-key, not both';
      if (!v['public-key'] && !v['embedded-key']) {
        return '--public-key FILE is required: a statement\'s own key proves nothing. Get the ledger operator\'s key (GET /v1/audit/public-key), or pass --embedded-key to check only that the statement is internally consistent';
      }
      for (const name of ['public-key', 'catalogue']) {
        const file = v[name];
        if (typeof file === 'string' && !(existsSync(file) && statSync(file).isFile())) return `--${name} ${file}: the file does not exist`;
      }
      return null;
    },
  },
  seed: {
    name: 'seed',
    summary: 'generate realistic synthetic data through the ledger into a separate store (--db FILE --devices N)',
    notes: [
      'seed never writes into the live ledger: synthetic units can never be removed from a ledger, so --db is',
      'required and must not be the live store (CARELEDGER_DB, or ./data/careledger.sqlite). Example:',
      '  careledger seed --db ./data/seed/careledger.sqlite --devices 1000',
      'Then point the server or the other commands at it (CARELEDGER_DB=./data/seed/careledger.sqlite).',
    ].join('\n'),
    options: {
      db: {
        type: 'string', arg: 'FILE', help: 'the store to fill (required; a separate one, e.g. ./data/seed/careledger.sqlite)',
        whyRequired: 'seed writes synthetic units, which can never be removed from a ledger, so it never writes into the live one by default: name a separate store, e.g. --db ./data/seed/careledger.sqlite',
      },
      'read-db': { type: 'string', arg: 'FILE', help: 'its read models (default beside it: *.read.sqlite)' },
      'database-url': {
        type: 'string', arg: 'URL',
        help: 'fill this PostgreSQL database instead (a separate one; never taken from CARELEDGER_DATABASE_URL); --db then only names where the read models and manifest go',
        check: (v) => (/^postgres(ql)?:\/\//.test(v) ? null : 'must be a postgres:// or postgresql:// URL'),
      },
      devices: { type: 'string', arg: 'N', help: 'units to generate, each with its own life (required)', check: integer(1) },
      seed: { type: 'string', arg: 'S', help: 'the generator\'s seed (default 1); the same seed gives the same commands and ids', check: integer(0) },
      concurrency: { type: 'string', arg: 'C', help: 'lives in flight at once per process (default 48)', check: integer(1, 10_000) },
      workers: { type: 'string', arg: 'W', help: 'processes sharing the work (default 1)', check: integer(1, 64) },
      pool: { type: 'string', arg: 'P', help: 'the last P units end with an open claim and a renewable plan (default 0)', check: integer(0) },
      'long-share': { type: 'string', arg: 'F', help: 'share of units with a long history (default 0.01)', check: share },
      horizon: { type: 'string', arg: 'DATE', help: 'no business time at or after this date (default 2026-11-01, or yesterday if earlier)', check: (v) => (isDate(v) ? null : 'must be a date YYYY-MM-DD') },
      manifest: { type: 'string', arg: 'FILE', help: 'where to write the manifest (default beside the store: <db>.seed.json)' },
      'no-project': { type: 'boolean', help: 'leave the read models alone (run `careledger rebuild` later)' },
      sync: { type: 'string', arg: 'MODE', help: 'the event store\'s synchronous setting: full (default) or normal', check: (v) => (/^(full|normal)$/i.test(v) ? null : 'must be full or normal') },
      quiet: { type: 'boolean', help: 'no progress bar' },
      worker: { type: 'string', arg: 'I/W', help: 'internal: this process is worker I of W', hidden: true, check: (v) => (/^\d+\/\d+$/.test(v) ? null : 'must be I/W') },
      ...HELP,
    },
    required: ['db', 'devices'],
    crossCheck: (v) => {
      const live = liveStorePath();
      if (resolve(v.db as string) === live) {
        return `--db ${v.db} is the live ledger (${live}); seed writes synthetic units that can never be removed: name a separate store, e.g. --db ./data/seed/careledger.sqlite`;
      }
      if (v.pool !== undefined && Number(v.pool) > Number(v.devices)) return `--pool ${v.pool} is more than --devices ${v.devices}`;
      if (typeof v.horizon === 'string' && Date.parse(`${v.horizon}T00:00:00Z`) > Date.now()) return `--horizon ${v.horizon} is in the future`;
      return null;
    },
  },
};

/** The live store's path: CARELEDGER_DB, else ./data/careledger.sqlite (as the server uses it). */
export function liveStorePath(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.CARELEDGER_DB || join('data', 'careledger.sqlite'));
}

export const PROGRAM = 'careledger';

function optionsText(spec: CommandSpec): string {
  const rows = Object.entries(spec.options)
    .filter(([, o]) => !o.hidden)
    .map(([name, o]) => [`${o.short ? `-${o.short}, ` : ''}--${name}${o.arg ? ` ${o.arg}` : ''}`, o.help]);
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, help]) => `  ${left.padEnd(width)}${help}`).join('\n');
}

function synopsis(spec: CommandSpec): string {
  const required = (name: string) => spec.required?.includes(name) ?? false;
  const parts = Object.entries(spec.options)
    .filter(([name, o]) => !o.hidden && name !== 'help')
    // required options first, in their order
    .sort(([a], [b]) => Number(required(b)) - Number(required(a)))
    .map(([name, o]) => {
      const text = `--${name}${o.arg ? ` ${o.arg}` : ''}`;
      return required(name) ? text : `[${text}]`;
    });
  return [PROGRAM, spec.name, ...(spec.positional ? [spec.positional.arg] : []), ...parts].join(' ');
}

export function commandUsage(spec: CommandSpec): string {
  const positional = spec.positional ? ['', 'arguments:', `  ${spec.positional.arg}  ${spec.positional.help}`] : [];
  return [`usage: ${synopsis(spec)}`, `${spec.summary}.`, ...positional, '', 'options:', optionsText(spec), ...(spec.notes ? ['', spec.notes] : [])].join('\n');
}

export function programUsage(): string {
  const rows = Object.values(COMMANDS).map((c) => [c.name, c.summary]);
  const width = Math.max(...rows.map(([name]) => name.length)) + 2;
  return [
    `usage: ${PROGRAM} <command> [options]`,
    '',
    'commands:',
    ...rows.map(([name, summary]) => `  ${name.padEnd(width)}${summary}`),
    '',
    `  ${PROGRAM} <command> --help   that command's options`,
    `  ${PROGRAM} --version          the version`,
    '',
    'Configuration as the server: CARELEDGER_DB, CARELEDGER_READ_DB, CARELEDGER_DATABASE_URL (PostgreSQL),',
    'EVENTSTORE_CONNECTION_STRING, CARELEDGER_CATALOGUE, CARELEDGER_SIGNING_KEY / CARELEDGER_SIGNING_KEY_FILE, CARELEDGER_TOKENS_FILE',
    '(seed never reads them: it writes only where --db or --database-url says).',
    'Exit codes: 0 done, 1 the command found a problem (broken chain, unknown serial, ...), 2 a wrong command line,',
    '3 a checkpoint saved outside the store does not hold (verify --checkpoints).',
  ].join('\n');
}

/** The version in the project's package.json, found upwards from this file (sources or dist). */
export function version(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'careledger' && pkg.version) return pkg.version;
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}

export type Parsed =
  | { kind: 'print'; text: string; code: number; stream: 'stdout' | 'stderr' }
  | { kind: 'run'; spec: CommandSpec; values: Values; args: string[] };

const usageError = (message: string, spec?: CommandSpec): Parsed => ({
  kind: 'print',
  stream: 'stderr',
  code: EXIT.usage,
  text: `${PROGRAM}${spec ? ` ${spec.name}` : ''}: ${message}\n${spec ? `Run \`${PROGRAM} ${spec.name} --help\` for its options.` : `Run \`${PROGRAM} --help\` for the commands.`}`,
});

/** Parses and checks a whole command line (argv without node and the script). */
export function parseCommandLine(argv: string[]): Parsed {
  const [command, ...rest] = argv;
  if (command === undefined) return { kind: 'print', stream: 'stderr', code: EXIT.usage, text: programUsage() };
  if (command === '--help' || command === '-h' || command === 'help') {
    const about = rest[0] !== undefined ? COMMANDS[rest[0]] : undefined;
    if (rest[0] !== undefined && !about) return usageError(`unknown command "${rest[0]}"`);
    return { kind: 'print', stream: 'stdout', code: EXIT.ok, text: about ? commandUsage(about) : programUsage() };
  }
  if (command === '--version' || command === '-V' || command === 'version') {
    return { kind: 'print', stream: 'stdout', code: EXIT.ok, text: version() };
  }
  const spec = COMMANDS[command];
  if (!spec) return usageError(command.startsWith('-') ? `unknown option ${command} (a command comes first)` : `unknown command "${command}"`);
  return parseCommand(spec, rest);
}

function parseCommand(spec: CommandSpec, args: string[]): Parsed {
  const options = Object.fromEntries(
    Object.entries(spec.options).map(([name, o]) => [name, { type: o.type, ...(o.short ? { short: o.short } : {}) }]),
  ) as NonNullable<ParseArgsConfig['options']>;
  // not strict: every token is checked here, so that each mistake gets its own sentence
  const { tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true });
  // --help wins over everything else on the line: it prints and does nothing
  if (tokens.some((t) => t.kind === 'option' && (t.name === 'help' || t.name === 'h'))) {
    return { kind: 'print', stream: 'stdout', code: EXIT.ok, text: commandUsage(spec) };
  }
  const values: Values = {};
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      const p = spec.positional;
      if (!p || values[p.key] !== undefined) return usageError(`unexpected argument "${token.value}"`, spec);
      const problem = p.check?.(token.value);
      if (problem) return usageError(`${p.arg} ${token.value} ${problem}`, spec);
      values[p.key] = token.value;
      continue;
    }
    const o = spec.options[token.name];
    if (!o) return usageError(`unknown option ${token.rawName}`, spec);
    if (values[token.name] !== undefined) return usageError(`--${token.name} is given twice`, spec);
    if (o.type === 'boolean') {
      if (token.value !== undefined) return usageError(`--${token.name} takes no value`, spec);
      values[token.name] = true;
      continue;
    }
    // `--serial` last, or followed by another option (`--serial --at x`), has no value
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('-'))) {
      return usageError(`--${token.name} needs a value (${o.arg ?? 'VALUE'})`, spec);
    }
    if (token.value.trim() === '') return usageError(`--${token.name} needs a value (${o.arg ?? 'VALUE'}), not an empty string`, spec);
    const problem = o.check?.(token.value);
    if (problem) return usageError(`--${token.name} ${problem}; got "${token.value}"`, spec);
    values[token.name] = token.value;
  }
  if (spec.positional && values[spec.positional.key] === undefined) return usageError(`${spec.positional.arg} is required (${spec.positional.help})`, spec);
  for (const name of spec.required ?? []) {
    const o = spec.options[name];
    if (values[name] === undefined) return usageError(`--${name}${o.arg ? ` ${o.arg}` : ''} is required${o.whyRequired ? `: ${o.whyRequired}` : ''}`, spec);
  }
  const cross = spec.crossCheck?.(values);
  if (cross) return usageError(cross, spec);
  return { kind: 'run', spec, values, args };
}
