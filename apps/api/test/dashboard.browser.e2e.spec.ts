/**
 * The /dashboard page in a real browser (Debian's Chromium, headless, driven by playwright-core)
 * against the real app on a temporary store: sign in, look a unit up, run a claim through approval,
 * a refused and a good payment, and fulfilment from the page, see the replacement unit covered with
 * the original in `inheritedFrom`, the center's statistics, a 403, and the auditor's side-by-side
 * views. Screenshots go to test-artifacts/dashboard/ (not committed).
 *
 * Without /usr/bin/chromium the suite is skipped with a warning, or fails when
 * CARELEDGER_REQUIRE_BROWSER=1 (CI installs chromium in .ci/run).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { DASHBOARD_TOKENS, minutesAgo, Running, seedCoveredUnit, startDashboardApp } from './dashboard.support';

// Debian's Chromium; CARELEDGER_CHROMIUM may point elsewhere (used to check the skip and fail paths)
const CHROMIUM = process.env.CARELEDGER_CHROMIUM || '/usr/bin/chromium';
const REQUIRED = process.env.CARELEDGER_REQUIRE_BROWSER === '1';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const ARTIFACTS = join(__dirname, '..', '..', '..', 'test-artifacts', 'dashboard');

if (!HAVE_CHROMIUM && !REQUIRED) {
  console.warn(`dashboard browser tests skipped: ${CHROMIUM} is not installed (apt-get install -y chromium; set CARELEDGER_REQUIRE_BROWSER=1 to make this a failure).`);
}

/** The few browser globals read in page.evaluate (the project's tsconfig has no DOM lib). */
interface PageGlobals {
  sessionStorage: { getItem(key: string): string | null };
  localStorage: { length: number };
  document: { cookie: string };
}
const sessionToken = () => (globalThis as unknown as PageGlobals).sessionStorage.getItem('careledger.dashboard.token');

const ORIGINAL = 'SN-ORIG-1';
const REPLACEMENT = 'SN-REPL-1';

(HAVE_CHROMIUM || REQUIRED ? describe : describe.skip)('the dashboard page in Chromium', () => {
  let run: Running;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!HAVE_CHROMIUM) {
      throw new Error(`CARELEDGER_REQUIRE_BROWSER=1 but ${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium).`);
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    run = await startDashboardApp();
    await seedCoveredUnit(run, ORIGINAL, 'ORDER-DASH-1');
    profile = mkdtempSync(join(tmpdir(), 'careledger-chromium-'));
    // a persistent context on a fresh, empty profile: the launch's --user-data-dir
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
      // a zone with an offset, so the page's default instants carry one
      timezoneId: 'America/Los_Angeles',
      timeout: 20_000,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(8_000);
    page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (/Content[- ]Security[- ]Policy|Refused to/i.test(message.text())) pageErrors.push(`console: ${message.text()}`);
    });
  }, 30_000);

  afterAll(async () => {
    await context?.close();
    await run?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  const text = async (selector: string) => ((await page.locator(selector).first().textContent()) ?? '').trim();

  async function signIn(who: keyof typeof DASHBOARD_TOKENS, center: string) {
    await page.fill('#signin-token', DASHBOARD_TOKENS[who].token);
    await page.fill('#signin-center', center);
    await page.click('#signin button[type=submit]');
    await page.waitForSelector('#app:not([hidden])');
  }

  it('runs a claim from lookup to a covered replacement, and shows the auditor both views', async () => {
    await page.goto(`${run.base}/dashboard`);
    await page.waitForSelector('body[data-ready=true]');
    expect(await page.isVisible('#signin')).toBe(true);
    expect(await page.isVisible('#app')).toBe(false);

    // a token the API does not know is refused and the page is back at the sign-in form
    await page.fill('#signin-token', 'not-a-known-token');
    await page.fill('#signin-center', 'SC-1');
    await page.click('#signin button[type=submit]');
    await page.waitForSelector('#banner:has-text("not valid")');
    await page.waitForSelector('#signin:not([hidden])');
    expect(await page.evaluate(sessionToken)).toBeNull();

    // sign in as the service center; the token lives in sessionStorage only
    await signIn('sc1', 'SC-1');
    const storage = await page.evaluate(() => {
      const w = globalThis as unknown as PageGlobals;
      return {
        token: w.sessionStorage.getItem('careledger.dashboard.token'),
        center: w.sessionStorage.getItem('careledger.dashboard.center'),
        local: w.localStorage.length,
        cookie: w.document.cookie,
      };
    });
    expect(storage).toEqual({ token: DASHBOARD_TOKENS.sc1.token, center: 'SC-1', local: 0, cookie: '' });
    expect(await context.cookies()).toEqual([]);

    // look the unit up
    await page.fill('#lookup-serial', ORIGINAL);
    await page.click('#lookup-form button[type=submit]');
    await page.waitForSelector(`#entitlement-card[data-serial="${ORIGINAL}"]`);
    expect(await text('#entitlement-card [data-field=coverage]')).toBe('active');
    expect(await text('[data-field="replacement.remaining"] .v')).toBe('2');
    expect(await text('[data-field="replacement.nextFee.damage"] .v')).toBe('159.00 USD');
    expect(await page.locator('svg.timeline rect').count()).toBeGreaterThanOrEqual(3);
    expect(await page.getAttribute('[data-field=carePlus]', 'data-code')).toBe('ProductDiscontinued');
    expect(await text('[data-field=carePlus]')).toContain('rule N3');
    await shot('01-lookup');

    // open a claim from the page
    await page.click('.tabs [data-tab=claims]');
    await page.waitForSelector('#claims-list .empty, #claims-table');
    await page.click('#open-claim-toggle');
    const openedAt = await page.inputValue('#open-claim [name=openedAt]');
    expect(openedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}-0[78]:00$/);
    await page.fill('#open-claim [name=claimRef]', 'R-100');
    await page.fill('#open-claim [name=serial]', ORIGINAL);
    await page.selectOption('#open-claim [name=cause]', 'collision');
    await page.fill('#open-claim [name=incidentAt]', minutesAgo(60));
    await page.click('#open-claim button[type=submit]');
    const row = '#claims-table tr[data-claim-ref="R-100"]';
    await page.waitForSelector(`${row}[data-status=open]`);

    // approve
    await page.click(`${row} [data-action=approve]`);
    await page.click('tr.action-row[data-action=approve] button[type=submit]');
    await page.waitForSelector(`${row}[data-status=approved]`);
    expect(await text('#claims-message .success')).toContain('fee 159.00 USD');

    // a wrong payment is refused: the page shows the code and the rule
    await page.click(`${row} [data-action=pay]`);
    const pay = 'tr.action-row[data-action=pay]';
    expect(await page.inputValue(`${pay} [name=amount]`)).toBe('159.00');
    await page.fill(`${pay} [name=amount]`, '1.00');
    await page.click(`${pay} button[type=submit]`);
    const refusal = `${pay} .problem[data-code=PaymentMismatch]`;
    await page.waitForSelector(refusal);
    expect(await page.getAttribute(refusal, 'data-rule')).toBe('R7');
    expect(await text(refusal)).toMatch(/422 PaymentMismatch · rule R7/);
    await shot('02-refused-payment');

    // the right amount is recorded
    await page.fill(`${pay} [name=amount]`, '159.00');
    await page.click(`${pay} button[type=submit]`);
    await page.waitForSelector(`${row}[data-status=paid]`);

    // fulfil with the replacement serial
    const knownBeforeFulfilment = new Date().toISOString();
    await page.click(`${row} [data-action=fulfil]`);
    await page.fill('tr.action-row[data-action=fulfil] [name=replacementSerial]', REPLACEMENT);
    await page.click('tr.action-row[data-action=fulfil] button[type=submit]');
    await page.waitForSelector(`${row}[data-status=fulfilled]`);
    expect(await text(`${row} td:nth-child(8)`)).toBe(REPLACEMENT);
    await shot('03-claims-fulfilled');

    // the replacement unit is covered, inheriting from the original
    await page.click('#claims-message .success[data-action=fulfil] button.link');
    await page.waitForSelector(`#entitlement-card[data-serial="${REPLACEMENT}"]`);
    expect(await text('#entitlement-card [data-field=coverage]')).toBe('active');
    expect(await text('#entitlement-card [data-field=inheritedFrom]')).toContain(`inherited from ${ORIGINAL}`);
    expect(await text('[data-field="replacement.remaining"] .v')).toBe('1');
    await shot('04-replacement-inherited');
    const api = await run.call<{ coverage: string; inheritedFrom: string[] }>('GET', `/v1/devices/${REPLACEMENT}/entitlements`, 'sc1');
    expect(api.body).toMatchObject({ coverage: 'active', inheritedFrom: [ORIGINAL] });

    // and the original has handed its coverage on
    await page.click('#entitlement-card [data-field=inheritedFrom] button.link');
    await page.waitForSelector(`#entitlement-card[data-serial="${ORIGINAL}"]`);
    expect(await text('#entitlement-card [data-field=coverage]')).toBe('transferred');
    expect(await text('#entitlement-card [data-field=transferredTo]')).toBe(REPLACEMENT);

    // the center's statistics, with the chart
    await page.click('.tabs [data-tab=stats]');
    await page.waitForSelector('#stats-card');
    expect(await text('[data-field="claims.fulfilled"] .v')).toBe('1');
    expect(await text('[data-field=feesCollected] .v')).toBe('159.00 USD');
    expect(await page.locator('#stats-chart rect').count()).toBe(12);
    await shot('05-statistics');

    // another center's data is refused with a clear 403
    await page.fill('#session-center', 'SC-9');
    await page.click('#session button[type=submit]');
    await page.waitForSelector('#stats-result .problem[data-status="403"]');
    expect(await text('#stats-result .problem')).toContain('403 Forbidden');
    await page.fill('#session-center', 'SC-1');
    await page.click('#session button[type=submit]');
    await page.waitForSelector('#stats-card');

    // the auditor: history, timeline, decisions, and the view now vs as known before the fulfilment
    await page.click('#signout');
    await page.waitForSelector('#signin:not([hidden])');
    expect(await page.evaluate(sessionToken)).toBeNull();
    expect(await page.inputValue('#signin-center')).toBe('SC-1');
    await signIn('auditor', 'SC-1');
    await page.click('.tabs [data-tab=audit]');
    await page.fill('#audit-serial', REPLACEMENT);
    await page.fill('#audit-known', knownBeforeFulfilment);
    await page.click('#audit-form button[type=submit]');
    await page.waitForSelector('#audit-diff');
    expect(await text('#audit-now [data-field=coverage]')).toBe('active');
    expect(await text('#audit-then [data-field=coverage]')).toBe('none');
    expect(await page.locator('#audit-diff tr.diff[data-key=coverage]').count()).toBe(1);
    expect(await page.locator('#audit-timeline tbody tr').count()).toBeGreaterThanOrEqual(6);
    expect(await page.locator('#audit-history tbody tr').count()).toBeGreaterThanOrEqual(6);
    expect(await text('#audit-decisions')).toContain('PaymentMismatch');
    await shot('06-audit');

    expect(pageErrors).toEqual([]);
  }, 45_000);
});
