/**
 * The /dashboard page and its files are served by the api (public, right content types, within the
 * CSP), from the sources under jest and from the build output after `npm run build`; GET /v1/me,
 * which the page asks after sign-in; and the browser suite's skip and fail paths without Chromium.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RULE_OF } from '@careledger/domain';
import { ASSET_TYPES, loadAssets } from '../src/dashboard/assets';
import { DASHBOARD_TOKENS, Running, startDashboardApp, Who } from './dashboard.support';

const root = join(__dirname, '..', '..', '..');

describe('GET /dashboard (the page and its files)', () => {
  let run: Running;

  beforeAll(async () => {
    run = await startDashboardApp();
  });
  afterAll(async () => {
    await run?.stop();
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${run.base}${path}`, { headers });

  it('answers the page as text/html without credentials, under the app CSP', async () => {
    const res = await get('/dashboard');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html; charset=utf-8/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    // else a browser on a plain-http, non-loopback origin fetches app.js and app.css over https and gets nothing
    expect(csp).not.toContain('upgrade-insecure-requests');
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('<script type="module" src="/dashboard/app.js"></script>');
    expect(html).toContain('<link rel="stylesheet" href="/dashboard/app.css">');
    // nothing from outside (no CDN), no inline handlers (script-src-attr 'none'), scripts or styles
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html.match(/<script\b[^>]*>/g)).toEqual(['<script type="module" src="/dashboard/app.js">']);
    expect(html).not.toMatch(/<style\b|\sstyle=/i);
    // the center comes from the token: the sign-in form asks for the token only
    const signin = /<form id="signin"[\s\S]*?<\/form>/.exec(html)![0];
    expect(signin.match(/<input\b/g)).toHaveLength(1);
  });

  it.each([
    ['/dashboard/app.js', /^text\/javascript; charset=utf-8/],
    ['/dashboard/labels.js', /^text\/javascript; charset=utf-8/],
    ['/dashboard/app.css', /^text\/css; charset=utf-8/],
  ])('answers %s with its content type', async (path, type) => {
    const res = await get(path);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(type);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const body = await res.text();
    expect(body.length).toBeGreaterThan(500);
    // no outside fetches: the only absolute URL allowed is the SVG namespace
    expect(body.replace('http://www.w3.org/2000/svg', '')).not.toMatch(/https?:\/\//);
    expect(body).not.toMatch(/@import|url\(\s*['"]?(?!data:)/);
  });

  it('revalidates with an ETag (304 when unchanged)', async () => {
    const first = await get('/dashboard/app.js');
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(first.headers.get('cache-control')).toBe('no-cache');
    const again = await get('/dashboard/app.js', { 'if-none-match': etag! });
    expect(again.status).toBe(304);
  });

  it('keeps the data behind the token: the page is public, the API is not', async () => {
    expect((await get('/v1/service-centers/SC-1/dashboard')).status).toBe(401);
    expect((await get('/dashboard/unknown.js')).status).toBe(404);
  });

  it('keeps the token in sessionStorage only and mirrors the domain rule ids', async () => {
    const js = await (await get('/dashboard/app.js')).text();
    expect(js).toContain('sessionStorage.setItem(TOKEN_KEY');
    expect(js).not.toMatch(/\blocalStorage\s*[.[]|document\.cookie/);
    const labels = await (await get('/dashboard/labels.js')).text();
    const served = JSON.parse(/^export const RULE_OF = (\{[\s\S]*?\n\});$/m.exec(labels)![1]) as Record<string, string>;
    expect(served).toEqual({ ...RULE_OF });
    // no inline style attributes set from the script either (style-src 'self' refuses them)
    expect(js).not.toMatch(/\bstyle:\s*['`]|setAttribute\(\s*'style'|\.innerHTML\s*=/);
  });

  it('titles every rule id the domain names, so the "why" reads as words', async () => {
    const js = await (await get('/dashboard/labels.js')).text();
    const block = /^export const RULE_TITLES = (\{[\s\S]*?\n\});$/m.exec(js)![1];
    const titled = new Map(Object.entries(JSON.parse(block) as Record<string, string>));
    // every rule id written in the domain's sources (deciders, fold, explanation, codes)
    const dir = join(root, 'libs', 'domain', 'src');
    const used = new Set<string>();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      for (const m of readFileSync(join(dir, file), 'utf8').matchAll(/'([TCPWNRIX]\d{1,2})'/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(30);
    expect([...used].filter((id) => !titled.has(id))).toEqual([]);
    // and the sections of RULES.md are complete: T1-T4, C1-C9, P1-P7, W1-W6, N1-N3, R1-R10, I1-I3, X1-X2
    const sections: [string, number][] = [['T', 4], ['C', 9], ['P', 7], ['W', 6], ['N', 3], ['R', 10], ['I', 3], ['X', 2]];
    const all = sections.flatMap(([letter, n]) => Array.from({ length: n }, (_, i) => `${letter}${i + 1}`));
    expect([...titled.keys()].sort()).toEqual(all.sort());
    for (const title of titled.values()) expect(title.length).toBeGreaterThan(8);
  });

  it('finds its files in the build output too (after npm run build)', () => {
    const built = join(root, 'dist', 'apps', 'api', 'apps', 'api', 'src', 'dashboard', 'assets.js');
    if (!existsSync(built)) {
      console.warn(`${built} is missing: run \`npm run build\` to check the built dashboard's files (skipped).`);
      return;
    }
    // the built module resolves the folder beside itself, as `npm start` does
    const { loadAssets: loadBuilt } = require(built) as { loadAssets: typeof loadAssets };
    const loaded = loadBuilt();
    if (!loaded.ok) throw new Error(loaded.error);
    expect(loaded.dir).toBe(join(root, 'dist', 'apps', 'api', 'apps', 'api', 'src', 'dashboard', 'assets'));
    expect([...loaded.files.keys()].sort()).toEqual([...Object.keys(ASSET_TYPES), 'labels.js'].sort());
  });

  it('reports missing files instead of serving nothing', () => {
    const loaded = loadAssets(join(root, 'no-such-folder'));
    expect(loaded.ok).toBe(false);
    const sources = loadAssets();
    expect(sources.ok).toBe(true);
    expect(readFileSync(join(sources.dir, 'index.html'), 'utf8')).toContain('/dashboard/app.js');
  });
});

describe('GET /v1/me (who the token is, for the page)', () => {
  let run: Running;

  beforeAll(async () => {
    run = await startDashboardApp();
  });
  afterAll(async () => {
    await run?.stop();
  });

  it.each<[Who, Record<string, unknown>]>([
    ['sc1', { role: 'service-center', roleText: 'service-center:SC-1', actor: 'service-center:SC-1', centerId: 'SC-1' }],
    ['admin', { role: 'admin', roleText: 'admin', actor: 'admin', centerId: null }],
    ['auditor', { role: 'auditor', roleText: 'auditor', actor: 'auditor', centerId: null }],
    ['sales', { role: 'sales', roleText: 'sales', actor: 'sales', centerId: null }],
    ['registry', { role: 'device-registry', roleText: 'device-registry', actor: 'device-registry', centerId: null }],
  ])('answers %s with its role and center', async (who, expected) => {
    const me = await run.call('GET', '/v1/me', who);
    expect(me.status).toBe(200);
    expect(me.body).toEqual(expected);
    expect(DASHBOARD_TOKENS[who].role).toBe(expected.roleText);
  });

  it('answers 401 without a valid token, and appends nothing', async () => {
    const anonymous = await run.call<{ code: string }>('GET', '/v1/me', null);
    expect([anonymous.status, anonymous.body.code]).toEqual([401, 'Unauthorized']);
    const bogus = await fetch(`${run.base}/v1/me`, { headers: { authorization: 'Bearer not-a-token-at-all' } });
    expect(bogus.status).toBe(401);
    expect(await run.app.runtime.store.headPosition()).toBe(0n);
  });

  it('is in the OpenAPI document with its schema and the 401 problem', async () => {
    const doc = (await (await fetch(`${run.base}/docs-json`)).json()) as any;
    const op = doc.paths['/v1/me'].get;
    expect(op.tags).toEqual(['session']);
    expect(op.summary).toMatch(/role/);
    expect(op.responses['200'].content['application/json'].schema.$ref).toBe('#/components/schemas/MeView');
    expect(Object.keys(doc.components.schemas.MeView.properties)).toEqual(['role', 'roleText', 'actor', 'centerId']);
    expect(doc.components.schemas.MeView.properties.centerId.nullable).toBe(true);
    expect(op.responses['401'].content['application/problem+json'].schema.$ref).toBe('#/components/schemas/Problem');
  });
});

describe('the browser suite without Chromium', () => {
  const browserSuite = join(__dirname, 'dashboard.browser.e2e.spec.ts');
  /** Runs jest on the browser suite with Chromium looked for where it is not. */
  function jestWithoutChromium(env: Record<string, string>, extra: string[] = []): Promise<{ code: number | null; output: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [join(root, 'node_modules', 'jest', 'bin', 'jest.js'), '--colors=false', ...extra, browserSuite], {
        cwd: root,
        env: { ...process.env, CARELEDGER_CHROMIUM: '/nonexistent/chromium', CARELEDGER_REQUIRE_BROWSER: '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error('jest on the browser suite did not finish within 60 s'));
      }, 60_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, output });
      });
    });
  }

  it('skips visibly: the warning and a "todo" whose title says why, even beside other suites (no --verbose)', async () => {
    // with a second (quick) suite, jest reports per file, not per test, as in `npm test`
    const { code, output } = await jestWithoutChromium({}, [join(root, 'apps', 'cli', 'test', 'operator-files.spec.ts')]);
    expect(code).toBe(0);
    expect(output).toContain('dashboard browser tests skipped: /nonexistent/chromium is not installed');
    expect(output).toMatch(/Tests:\s+\d+ skipped, 1 todo, (\d+ passed, )?\d+ total/);
    const verbose = await jestWithoutChromium({}, ['--verbose']);
    expect(verbose.output).toMatch(/✎ todo SKIPPED: the dashboard browser tests need Chromium at \/nonexistent\/chromium \(apt-get install -y chromium; CARELEDGER_REQUIRE_BROWSER=1 makes this a failure\)/);
  }, 70_000);

  it('fails with CARELEDGER_REQUIRE_BROWSER=1', async () => {
    const { code, output } = await jestWithoutChromium({ CARELEDGER_REQUIRE_BROWSER: '1' });
    expect(code).toBe(1);
    expect(output).toContain('CARELEDGER_REQUIRE_BROWSER=1 but /nonexistent/chromium is missing');
  }, 70_000);
});
