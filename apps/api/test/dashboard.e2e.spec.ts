/**
 * The /dashboard page and its files are served by the api (public, right content types, within the
 * CSP), from the sources under jest and from the build output after `npm run build`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RULE_OF } from '@careledger/domain';
import { ASSET_TYPES, loadAssets } from '../src/dashboard/assets';
import { Running, startDashboardApp } from './dashboard.support';

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
    // nothing from outside (no CDN), no inline handlers (script-src-attr 'none')
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
  });

  it.each([
    ['/dashboard/app.js', /^text\/javascript; charset=utf-8/],
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
    for (const [code, rule] of Object.entries(RULE_OF)) expect(js).toContain(`${code}: '${rule}'`);
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
    expect([...loaded.files.keys()].sort()).toEqual(Object.keys(ASSET_TYPES).sort());
  });

  it('reports missing files instead of serving nothing', () => {
    const loaded = loadAssets(join(root, 'no-such-folder'));
    expect(loaded.ok).toBe(false);
    const sources = loadAssets();
    expect(sources.ok).toBe(true);
    expect(readFileSync(join(sources.dir, 'index.html'), 'utf8')).toContain('/dashboard/app.js');
  });
});
