/**
 * What an operator runs besides the CLI: `npm start`'s build step (bin/build-if-stale.js builds only
 * when dist/ is missing or older than the sources), and the image (Dockerfile, .dockerignore).
 * No Docker engine runs here, so the image's files are checked as Docker reads them.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const { staleness, OUTPUTS } = require(join(ROOT, 'bin', 'build-if-stale.js')) as {
  staleness(root: string): { stale: boolean; reason: string };
  OUTPUTS: string[];
};

describe('npm start builds only when dist/ is missing or older than the sources (bin/build-if-stale.js)', () => {
  let root: string;
  const T0 = new Date('2026-01-01T00:00:00Z');
  const later = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
  const put = (path: string, at: Date) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), 'x');
    utimesSync(join(root, path), at, at);
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'careledger-stale-'));
    for (const source of ['apps/api/src/main.ts', 'apps/api/src/dashboard/assets/app.js', 'libs/domain/src/catalogue/catalogue.v1.json', 'package.json', 'tsconfig.base.json']) put(source, T0);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test('a missing build is built', () => {
    expect(staleness(root)).toEqual({ stale: true, reason: `${OUTPUTS[0]} is missing` });
    put(OUTPUTS[0], later(5));
    expect(staleness(root)).toEqual({ stale: true, reason: `${OUTPUTS[1]} is missing` });
  });

  test('a build newer than every source is kept', () => {
    for (const output of OUTPUTS) put(output, later(5));
    expect(staleness(root)).toEqual({ stale: false, reason: 'dist/ is newer than every source' });
  });

  test.each([
    ['apps/api/src/main.ts'],
    ['apps/api/src/dashboard/assets/app.js'],
    ['libs/domain/src/catalogue/catalogue.v1.json'],
    ['libs/runtime/src/new-file.ts'],
    ['package-lock.json'],
    ['nest-cli.json'],
  ])('a change to %s after the build rebuilds, naming it', (path) => {
    for (const output of OUTPUTS) put(output, later(5));
    put(path, later(10));
    expect(staleness(root)).toEqual({ stale: true, reason: `${join(path)} changed since the last build` });
  });

  test('tests, specs and fixtures are not built, so changing them does not rebuild', () => {
    for (const output of OUTPUTS) put(output, later(5));
    put('apps/api/test/dashboard.browser.e2e.spec.ts', later(10));
    put('apps/cli/test/cli.e2e.spec.ts', later(10));
    put('libs/domain/src/rules/claims.spec.ts', later(10));
    put('libs/projections/src/__fixtures__/killed-runner.fixture.ts', later(10));
    expect(staleness(root).stale).toBe(false);
  });

  test('an older of the two outputs counts: the cli built before a change rebuilds', () => {
    put(OUTPUTS[0], later(20));
    put(OUTPUTS[1], later(5));
    put('apps/api/src/main.ts', later(10));
    expect(staleness(root).stale).toBe(true);
  });

  test('package.json runs it before start, and build still always builds', () => {
    const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;
    expect(scripts.prestart).toBe('node bin/build-if-stale.js');
    expect(scripts.build).toBe('nest build api && nest build cli');
  });
});

/** Docker's .dockerignore matching (moby/patternmatcher): `*`, `?`, `**`, `!` exceptions, last match wins, parents count. */
function dockerignored(patterns: string[], path: string): boolean {
  const rules = patterns.map((line) => {
    const negate = line.startsWith('!');
    const pattern = (negate ? line.slice(1) : line).trim().replace(/^\/+/, '').replace(/\/+$/, '');
    let re = '';
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i];
      if (c === '*' && pattern[i + 1] === '*') {
        re += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
        i += pattern[i + 2] === '/' ? 2 : 1;
      } else if (c === '*') re += '[^/]*';
      else if (c === '?') re += '[^/]';
      else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    return { negate, re: new RegExp(`^${re}$`) };
  });
  const parts = path.split('/');
  let ignored = false;
  for (const rule of rules) {
    // a pattern matches the path or one of its parent folders
    const hit = parts.some((_, i) => rule.re.test(parts.slice(0, i + 1).join('/')));
    if (hit) ignored = !rule.negate;
  }
  return ignored;
}

describe('the image (Dockerfile, .dockerignore)', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

  test('the matcher reads patterns as Docker does', () => {
    expect(dockerignored(['*.log'], 'server.log')).toBe(true);
    expect(dockerignored(['*.log'], 'logs/server.log')).toBe(false);
    expect(dockerignored(['**/*.log'], 'logs/a/server.log')).toBe(true);
    expect(dockerignored(['coverage'], 'coverage/lcov.info')).toBe(true);
    expect(dockerignored(['*.md', '!README.md'], 'README.md')).toBe(false);
  });

  test.each([
    '.env', '.env.local', '.env.production', 'apps/api/.env', 'server.log', 'logs/api.log', 'logs/api.ndjson', 'npm-debug.log.1', 'coverage/lcov.info',
    'test-artifacts/dashboard/01-lookup.png', 'data/tokens.json', 'data/careledger.sqlite', 'careledger.sqlite-wal', 'docs-desk.md',
    'node_modules/luxon/package.json', 'dist/apps/api/apps/api/src/main.js', '.git', 'bench/results/run.json',
  ])('leaves %s out of the build context', (path) => {
    expect(dockerignored(patterns, path)).toBe(true);
  });

  test.each([
    'package.json', 'package-lock.json', 'nest-cli.json', 'tsconfig.base.json', 'apps/api/src/main.ts', 'apps/api/src/dashboard/assets/app.js',
    'libs/domain/src/catalogue/catalogue.v1.json', 'bin/careledger.js', 'bin/build-if-stale.js', 'README.md',
  ])('keeps %s, which the build needs', (path) => {
    expect(dockerignored(patterns, path)).toBe(false);
  });

  test('the server runs as an unprivileged user that owns /data', () => {
    const users = [...finalStage.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!;
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(finalStage.indexOf(`USER ${user}`)).toBeLessThan(finalStage.indexOf('CMD '));
    expect(finalStage).toMatch(new RegExp(`chown\\s+${user}(:${user})?\\s+/data`));
  });

  test('the health check waits out catch-up: a start period of several minutes', () => {
    const healthcheck = /^HEALTHCHECK\s+(.*)$/m.exec(finalStage)?.[1] ?? '';
    const period = /--start-period=(\d+)(s|m|h)/.exec(healthcheck);
    expect(period).not.toBeNull();
    const seconds = Number(period![1]) * { s: 1, m: 60, h: 3600 }[period![2] as 's' | 'm' | 'h'];
    expect(seconds).toBeGreaterThanOrEqual(300);
    expect(healthcheck).toMatch(/CMD node -e .*\/health/);
  });
});
