/**
 * GET / (public): a browser gets a small page linking the desk, the docs and health, under the
 * strict CSP (no inline script or style); anything else gets { name, version, links }.
 */
import { appVersion } from '../src/http/build-info';
import { preferred } from '../src/http/negotiate';
import { TestServer } from './harness';

describe('GET /', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await TestServer.start();
  });
  afterAll(() => server.stop());

  const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

  test('a browser gets a page that links the dashboard, the docs and health, with no inline script or style', async () => {
    const page = await server.get<string>('/', null, { accept: BROWSER });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('vary')).toMatch(/accept/i);
    for (const href of ['/dashboard', '/docs', '/health']) expect(page.body).toContain(`<a href="${href}">`);
    expect(page.body).toContain(`<small>${appVersion()}</small>`);
    expect(page.body).not.toMatch(/<script|<style|\sstyle=|\son[a-z]+=/i);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    // what it links is served from this origin
    const css = await server.get<string>('/dashboard/app.css', null);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
  });

  test.each([[undefined], ['*/*'], ['application/json'], ['application/json, text/html;q=0.5'], ['image/png']])('Accept %s gets JSON { name, version, links }', async (accept) => {
    const answer = await server.get('/', null, accept === undefined ? {} : { accept });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.body).toEqual({ name: 'CareLedger', version: appVersion(), links: { dashboard: '/dashboard', docs: '/docs', openapi: '/docs-json', health: '/health' } });
  });

  test('needs no token, and a token changes nothing', async () => {
    expect((await server.get('/', 'auditor')).body.name).toBe('CareLedger');
    expect((await server.call('GET', '/', null, undefined, { authorization: 'Bearer not-a-token' })).status).toBe(200);
  });

  test('content negotiation: the highest quality wins, an exact type before a range, the first offer on a tie or when nothing fits', () => {
    const offers = ['application/json', 'text/csv'] as const;
    expect(preferred(undefined, offers)).toBe('application/json');
    expect(preferred('text/csv', offers)).toBe('text/csv');
    expect(preferred('text/*', offers)).toBe('text/csv');
    expect(preferred('text/csv;q=0.5, application/json', offers)).toBe('application/json');
    expect(preferred('application/json;q=0.1, text/csv;q=0.9', offers)).toBe('text/csv');
    expect(preferred('*/*, text/csv;q=0', offers)).toBe('application/json');
    expect(preferred('application/json;q=0, */*', offers)).toBe('text/csv');
    expect(preferred('text/csv, application/json', offers)).toBe('application/json');
    expect(preferred('image/png', offers)).toBe('application/json');
    expect(preferred(['text/csv', 'application/json;q=0.2'], offers)).toBe('text/csv');
  });
});
