/**
 * The /dashboard page in a real browser (Debian's Chromium, headless, driven by playwright-core)
 * against the real app on a temporary store, under a strict CSP (script-src 'self' and style-src
 * 'self', no 'unsafe-inline'), at a desk (1280 px) and on a phone (390 px):
 * - a service-center agent signs in with a token only (the center comes from GET /v1/me), looks a
 *   unit up (its open claims, the "why" in words: event types, dates, rule titles), opens a claim
 *   from the unit card (cleared form, claim id in the message, the claim shown), runs it through
 *   approval, a refused and a good payment and fulfilment, sees the replacement covered, uses up the
 *   quota (no Approve any more) and meets a stale Approve refused in words;
 * - an auditor chooses a center, sees the queue read-only and both views of a unit side by side;
 *   sales sees lookups and history only;
 * - on a phone every view fits the width (no sideways scroll), the claim queue becomes cards and the
 *   charts are drawn at the width they get (text at its size, labels apart).
 * Screenshots of each step go to test-artifacts/dashboard/ (not committed).
 *
 * Without /usr/bin/chromium the suite is skipped, with a warning and a "todo" whose title says why
 * (both shown in jest's report); with CARELEDGER_REQUIRE_BROWSER=1 it fails instead (CI installs
 * chromium in .ci/run).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { DASHBOARD_TOKENS, minutesAgo, openClaimViaApi, Running, seedCoveredUnit, startDashboardApp } from './dashboard.support';

// Debian's Chromium; CARELEDGER_CHROMIUM may point elsewhere (used to check the skip and fail paths)
const CHROMIUM = process.env.CARELEDGER_CHROMIUM || '/usr/bin/chromium';
const REQUIRED = process.env.CARELEDGER_REQUIRE_BROWSER === '1';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const ARTIFACTS = join(__dirname, '..', '..', '..', 'test-artifacts', 'dashboard');
const SKIP_TITLE = `SKIPPED: the dashboard browser tests need Chromium at ${CHROMIUM} (apt-get install -y chromium; CARELEDGER_REQUIRE_BROWSER=1 makes this a failure)`;

if (!HAVE_CHROMIUM && !REQUIRED) {
  console.warn(`dashboard browser tests skipped: ${CHROMIUM} is not installed (apt-get install -y chromium; set CARELEDGER_REQUIRE_BROWSER=1 to make this a failure).`);
  // A "todo" whose title says why. Jest hides a file whose tests are all skipped (its console
  // output too); a todo keeps the file, this warning and the title in the report ("1 todo").
  test.todo(SKIP_TITLE);
}

/** What the other engineer's CSP will be: nothing inline, for scripts or styles. */
const STRICT_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const ORIGINAL = 'SN-ORIG-1';
const REPLACEMENT = 'SN-REPL-1';
const STALE = 'SN-STALE-1';

// page.evaluate bodies as strings: the project's tsconfig has no DOM lib
const STORAGE = `({ token: sessionStorage.getItem('careledger.dashboard.token'), center: sessionStorage.getItem('careledger.dashboard.center'), local: localStorage.length, cookie: document.cookie })`;
const SESSION_TOKEN = `sessionStorage.getItem('careledger.dashboard.token')`;
const WIDTHS = `({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth, body: document.body.scrollWidth })`;
/** Every SVG text on the page: its drawn height, whether it stays inside its SVG, overlaps between axis labels and between lane labels and bars. */
const SVG_TEXT = `(() => {
  const out = { texts: 0, minHeight: Infinity, outside: [], axisOverlaps: 0, laneOverBar: 0, scale: Infinity };
  for (const svg of document.querySelectorAll('svg.timeline, svg.chart')) {
    const box = svg.getBoundingClientRect();
    if (box.width === 0) continue;
    out.scale = Math.min(out.scale, box.width / svg.viewBox.baseVal.width);
    for (const t of svg.querySelectorAll('text')) {
      const r = t.getBoundingClientRect();
      out.texts++;
      out.minHeight = Math.min(out.minHeight, r.height);
      if (r.right > box.right + 1 || r.left < box.left - 1) out.outside.push(t.textContent);
    }
    const axis = [...svg.querySelectorAll('.axis text')].map((t) => t.getBoundingClientRect()).sort((a, b) => a.left - b.left);
    for (let i = 1; i < axis.length; i++) if (axis[i].left < axis[i - 1].right) out.axisOverlaps++;
    const bars = [...svg.querySelectorAll('rect')].map((r) => r.getBoundingClientRect());
    for (const label of svg.querySelectorAll('.lane-label')) {
      const l = label.getBoundingClientRect();
      if (bars.some((b) => l.left < b.right && b.left < l.right && l.top < b.bottom && b.top < l.bottom)) out.laneOverBar++;
    }
  }
  return out;
})()`;
/** The claim queue's visible cells: the narrowest one, and whether rows are stacked as cards. */
const CLAIM_CELLS = `(() => {
  const cells = [...document.querySelectorAll('#claims-table tbody tr:not(.action-row) td')].filter((td) => td.offsetParent !== null);
  const widths = cells.map((td) => td.querySelector('.cell').getBoundingClientRect().width);
  const opened = cells.filter((td) => td.dataset.label === 'Opened').map((td) => td.querySelector('.cell').getBoundingClientRect().width);
  const row = document.querySelector('#claims-table tbody tr');
  return { cells: cells.length, narrowest: Math.min(...widths), opened: Math.min(...opened), display: row ? getComputedStyle(row).display : null, header: getComputedStyle(document.querySelector('#claims-table thead')).display };
})()`;

(HAVE_CHROMIUM || REQUIRED ? describe : describe.skip)('the service desk page in Chromium', () => {
  let run: Running;
  const profiles: string[] = [];
  const errors: string[] = [];
  let desk: BrowserContext;
  let page: Page;
  let claimId100 = '';
  let knownBeforeFulfilment = '';

  async function launch(viewport: { width: number; height: number }, mobile: boolean): Promise<{ context: BrowserContext; page: Page }> {
    const profile = mkdtempSync(join(tmpdir(), 'careledger-chromium-'));
    profiles.push(profile);
    // a persistent context on a fresh, empty profile: the launch's --user-data-dir
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport,
      isMobile: mobile,
      hasTouch: mobile,
      deviceScaleFactor: mobile ? 2 : 1,
      // a zone with an offset, so the page's default instants carry one
      timezoneId: 'America/Los_Angeles',
      timeout: 20_000,
    });
    // the page as served, under the strict CSP the API is moving to
    await context.route(`${run.base}/dashboard`, async (route) => {
      const response = await route.fetch();
      await route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': STRICT_CSP } });
    });
    const p = context.pages()[0] ?? (await context.newPage());
    p.setDefaultTimeout(8_000);
    p.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
    p.on('console', (message) => {
      if (/Content[- ]Security[- ]Policy|Refused to/i.test(message.text())) errors.push(`console: ${message.text()}`);
    });
    return { context, page: p };
  }

  beforeAll(async () => {
    if (!HAVE_CHROMIUM) {
      throw new Error(`CARELEDGER_REQUIRE_BROWSER=1 but ${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium).`);
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    run = await startDashboardApp();
    await seedCoveredUnit(run, ORIGINAL, 'ORDER-DASH-1');
    await seedCoveredUnit(run, STALE, 'ORDER-DASH-2');
    ({ context: desk, page } = await launch({ width: 1280, height: 900 }, false));
  }, 40_000);

  afterAll(async () => {
    await desk?.close();
    await run?.stop();
    for (const profile of profiles) rmSync(profile, { recursive: true, force: true });
  });

  /** The whole page; a tall one also in parts of 1,100 px, so that each part can be read. */
  async function shot(p: Page, name: string) {
    await p.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
    const { width, height } = (await p.evaluate('({ width: document.documentElement.clientWidth, height: document.documentElement.scrollHeight })')) as { width: number; height: number };
    if (height <= 1600) return;
    for (let y = 0, part = 1; y < height; y += 1100, part++) {
      await p.screenshot({ path: join(ARTIFACTS, `${name}.part${part}.png`), fullPage: true, clip: { x: 0, y, width, height: Math.min(1100, height - y) } });
    }
  }
  const text = async (selector: string, p: Page = page) => ((await p.locator(selector).first().textContent()) ?? '').trim();
  /** No sideways scroll of the page itself. */
  async function fits(p: Page, where: string) {
    const w = (await p.evaluate(WIDTHS)) as { scroll: number; client: number; body: number };
    expect({ where, scroll: w.scroll <= w.client, body: w.body <= w.client }).toEqual({ where, scroll: true, body: true });
  }

  async function signIn(p: Page, who: keyof typeof DASHBOARD_TOKENS) {
    await p.fill('#signin-token', DASHBOARD_TOKENS[who].token);
    await p.click('#signin button[type=submit]');
    await p.waitForSelector('#app:not([hidden])');
  }

  async function signOut(p: Page) {
    await p.click('#signout');
    await p.waitForSelector('#signin:not([hidden])');
  }

  async function lookUp(p: Page, serial: string) {
    await p.click('.tabs [data-tab=lookup]');
    await p.fill('#lookup-serial', serial);
    await p.click('#lookup-form button[type=submit]');
    await p.waitForSelector(`#entitlement-card[data-serial="${serial}"]`);
  }

  it('desk: the service center signs in with its token only; the center comes from the token', async () => {
    await page.goto(`${run.base}/dashboard`);
    await page.waitForSelector('body[data-ready=true]');
    expect(await page.isVisible('#signin')).toBe(true);
    expect(await page.isVisible('#app')).toBe(false);
    // no center field to type any more
    expect(await page.locator('#signin input').count()).toBe(1);
    await fits(page, 'signed out');

    // a token the API does not know is refused and the page is back at the sign-in form
    await page.fill('#signin-token', 'not-a-known-token');
    await page.click('#signin button[type=submit]');
    await page.waitForSelector('#banner:has-text("not valid")');
    await page.waitForSelector('#signin:not([hidden])');
    expect(await page.evaluate(SESSION_TOKEN)).toBeNull();

    await signIn(page, 'sc1');
    await page.waitForSelector('#center-locked:has-text("Los Angeles Service Center")');
    expect(await text('#center-id')).toBe('SC-1');
    expect(await text('#center-locked')).toContain('from your token');
    expect(await page.isVisible('#center-form')).toBe(false);
    expect(await text('#whoami')).toBe('service-center:SC-1');
    // the token in sessionStorage only; no center stored (it is the token's)
    expect(await page.evaluate(STORAGE)).toEqual({ token: DASHBOARD_TOKENS.sc1.token, center: null, local: 0, cookie: '' });
    expect(await desk.cookies()).toEqual([]);
    expect(await page.locator('.tabs button:visible').allTextContents()).toEqual(['Unit lookup', 'Claim queue', 'Statistics', 'History & disputes']);
    await fits(page, 'signed in');
    await shot(page, 'desk-01-signed-in');
  }, 30_000);

  it('desk: the unit card shows the windows and the "why" in words: event types, dates, rule titles (ids kept aside)', async () => {
    await lookUp(page, ORIGINAL);
    expect(await text('#entitlement-card [data-field=coverage]')).toBe('active');
    expect(await text('[data-field="replacement.remaining"] .v')).toBe('2');
    expect(await text('[data-field="replacement.nextFee.damage"] .v')).toBe('159.00 USD');
    expect(await page.locator('svg.timeline rect').count()).toBeGreaterThanOrEqual(3);
    expect(await page.getAttribute('[data-field=carePlus]', 'data-code')).toBe('ProductDiscontinued');
    expect(await text('[data-field=carePlus]')).toContain('rule N3');
    expect(await text('#unit-claims')).toContain('Open claims (0)');

    await page.click('#explain summary');
    const row = '#explain-table tr[data-field="replacement.remaining"]';
    await page.waitForSelector(row);
    expect(await text(`${row} td[data-label=Field]`)).toMatch(/^Replacements left/);
    expect(await text(`${row} [data-rule=R1]`)).toBe('R1 Replacement quotas');
    const fact = `${row} li[data-event-id]`;
    expect(await text(`${fact} .event-type`)).toBe('PlanPurchased');
    expect(await text(`${fact} .when`)).toMatch(/^happened \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\S* · recorded \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\S*$/);
    // the id stays for auditors: in the tooltip and as a short secondary text
    const eventId = (await page.getAttribute(fact, 'data-event-id'))!;
    expect(eventId).toMatch(UUID);
    expect(await page.getAttribute(fact, 'title')).toContain(`event ${eventId}`);
    expect(await text(`${fact} .sub`)).toBe(eventId.slice(0, 8));
    // nowhere does a row read as raw UUIDs or bare rule ids
    const rowTexts = await page.locator('#explain-table tbody tr').allTextContents();
    expect(rowTexts.length).toBeGreaterThanOrEqual(10);
    for (const t of rowTexts) expect(t).not.toMatch(UUID);
    const ruleItems = await page.locator('#explain-table [data-rule]').allTextContents();
    for (const item of ruleItems) expect(item).toMatch(/^[TCPWNRIX]\d{1,2} \S.{3,}/);
    await fits(page, 'lookup with why');
    await shot(page, 'desk-02-lookup-why');
  }, 30_000);

  it('desk: a claim opened from the unit card clears the form and names the claim id, which opens the claim', async () => {
    await page.click('#claim-for-unit');
    await page.waitForSelector('#open-claim:not([hidden])');
    expect(await page.inputValue('#open-claim [name=serial]')).toBe(ORIGINAL);
    const openedAt = await page.inputValue('#open-claim [name=openedAt]');
    expect(openedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}-0[78]:00$/);
    expect(await text('#open-claim-center')).toBe('at SC-1');
    await page.fill('#open-claim [name=claimRef]', 'R-100');
    await page.selectOption('#open-claim [name=cause]', 'drop');
    await page.fill('#open-claim [name=incidentAt]', minutesAgo(60));
    await page.check('#open-claim [name=flightRecordsSynced]');
    await page.click('#open-claim button[type=submit]');
    await page.waitForSelector('#claim-opened');
    await page.waitForSelector('#claims-table tr[data-claim-ref="R-100"][data-status=open]');

    const queue = await run.call<{ items: { claimId: string; claimRef: string }[] }>('GET', '/v1/service-centers/SC-1/claims', 'sc1');
    claimId100 = queue.body.items.find((c) => c.claimRef === 'R-100')!.claimId;
    expect(await text('#claim-opened')).toBe(`Claim R-100 opened for ${ORIGINAL} (open). Claim id ${claimId100} Show the claim`);
    expect(await text('#claim-opened .claim-id')).toBe(claimId100);
    // the form is cleared for the next claim (and still open), with a fresh "opened at"
    const form = await page.evaluate(`Object.fromEntries([...document.querySelectorAll('#open-claim input, #open-claim select')].map((e) => [e.name, e.type === 'checkbox' ? e.checked : e.value]))`);
    expect(form).toEqual({
      claimRef: '', serial: '', kind: 'damage', cause: 'collision', incidentAt: '', openedAt: expect.stringMatching(/^\d{4}-.*-0[78]:00$/),
      express: false, flightRecordsSynced: false,
    });
    expect(await page.isVisible('#open-claim')).toBe(true);
    expect(await text('#open-claim .result')).toBe('');
    await fits(page, 'claim opened');
    await shot(page, 'desk-03-claim-opened');

    await page.click('#claim-opened [data-show-claim]');
    await page.waitForSelector(`#claim-card[data-claim-id="${claimId100}"]`);
    expect(await text('#claim-detail-id')).toBe(claimId100);
    expect(await text('#claim-card [data-field=status]')).toBe('open');
    expect(await page.locator('#claim-card [data-action]').evaluateAll((b) => b.map((x) => (x as unknown as { dataset: { action: string } }).dataset.action))).toEqual(['approve', 'deny', 'cancel']);
    await page.click('#open-claim [data-close]');

    // the unit card lists it among its open claims, with a way to it
    await lookUp(page, ORIGINAL);
    expect(await text('#unit-claims h3')).toBe('Open claims (1)');
    const item = `#unit-claims li[data-claim-id="${claimId100}"]`;
    expect(await text(item)).toMatch(/^R-100 open damage · opened \d{4}-.* at SC-1 Show claim/);
    await shot(page, 'desk-04-unit-open-claims');
    await page.click(`${item} [data-open-claim]`);
    await page.waitForSelector(`#claim-card[data-claim-id="${claimId100}"]`);
  }, 40_000);

  it('desk: the claim runs through approval, a refused and a good payment, and fulfilment; the replacement inherits', async () => {
    await page.click('#claim-card button:has-text("Close")');
    const row = '#claims-table tr[data-claim-ref="R-100"]';
    await page.click(`${row} [data-action=approve]`);
    await page.click('tr.action-row[data-action=approve] button[type=submit]');
    await page.waitForSelector(`${row}[data-status=approved]`);
    expect(await text('#claims-message .success')).toContain('fee 159.00 USD');

    // a wrong payment is refused: the page shows the code, the rule and its title
    await page.click(`${row} [data-action=pay]`);
    const pay = 'tr.action-row[data-action=pay]';
    expect(await page.inputValue(`${pay} [name=amount]`)).toBe('159.00');
    await page.fill(`${pay} [name=amount]`, '1.00');
    await page.click(`${pay} button[type=submit]`);
    const refusal = `${pay} .problem[data-code=PaymentMismatch]`;
    await page.waitForSelector(refusal);
    expect(await page.getAttribute(refusal, 'data-rule')).toBe('R7');
    expect(await text(refusal)).toMatch(/422 PaymentMismatch · rule R7/);
    expect(await text(`${refusal} .rule-title`)).toBe('R7: Quota reserved at approval; fee by ordinal');
    await fits(page, 'refused payment');
    await shot(page, 'desk-05-refused-payment');

    await page.fill(`${pay} [name=amount]`, '159.00');
    await page.click(`${pay} button[type=submit]`);
    await page.waitForSelector(`${row}[data-status=paid]`);

    knownBeforeFulfilment = new Date().toISOString();
    await page.click(`${row} [data-action=fulfil]`);
    await page.fill('tr.action-row[data-action=fulfil] [name=replacementSerial]', REPLACEMENT);
    await page.click('tr.action-row[data-action=fulfil] button[type=submit]');
    await page.waitForSelector(`${row}[data-status=fulfilled]`);
    expect(await text(`${row} td[data-label=Replacement]`)).toBe(REPLACEMENT);
    await shot(page, 'desk-06-claims-fulfilled');

    await page.click('#claims-message .success[data-action=fulfil] button.link');
    await page.waitForSelector(`#entitlement-card[data-serial="${REPLACEMENT}"]`);
    expect(await text('#entitlement-card [data-field=coverage]')).toBe('active');
    expect(await text('#entitlement-card [data-field=inheritedFrom]')).toContain(`inherited from ${ORIGINAL}`);
    expect(await text('[data-field="replacement.remaining"] .v')).toBe('1');
    expect(await text('#unit-claims h3')).toBe('Open claims (0) · 1 closed on this plan');
    const api = await run.call<{ coverage: string; inheritedFrom: string[] }>('GET', `/v1/devices/${REPLACEMENT}/entitlements`, 'sc1');
    expect(api.body).toMatchObject({ coverage: 'active', inheritedFrom: [ORIGINAL] });
    await shot(page, 'desk-07-replacement-inherited');

    await page.click('#entitlement-card [data-field=inheritedFrom] button.link');
    await page.waitForSelector(`#entitlement-card[data-serial="${ORIGINAL}"]`);
    expect(await text('#entitlement-card [data-field=coverage]')).toBe('transferred');
    expect(await text('#entitlement-card [data-field=transferredTo]')).toBe(REPLACEMENT);
    // a replaced unit is offered no new claim
    expect(await page.locator('#claim-for-unit').count()).toBe(0);
  }, 40_000);

  it('desk: once the last replacement is approved, the other open claims offer no Approve', async () => {
    // the replacement unit holds the plan since its fulfilment, a moment ago
    await openClaimViaApi(run, REPLACEMENT, 'R-101', new Date().toISOString());
    await openClaimViaApi(run, REPLACEMENT, 'R-102', new Date().toISOString());
    await page.click('.tabs [data-tab=claims]');
    const r101 = '#claims-table tr[data-claim-ref="R-101"]';
    const r102 = '#claims-table tr[data-claim-ref="R-102"]';
    await page.click('#claims-refresh');
    await page.waitForSelector(`${r102} [data-action=approve]`);
    expect(await page.locator(`${r101} [data-action=approve]`).count()).toBe(1);

    await page.click(`${r101} [data-action=approve]`);
    await page.click('tr.action-row[data-action=approve] button[type=submit]');
    await page.waitForSelector(`${r101}[data-status=approved]`);
    expect(await text('#claims-message .success')).toContain('fee 199.00 USD (replacement #2 of the term)');
    // the last replacement is reserved: R-102 can only be denied or cancelled, and says why
    expect(await page.locator(`${r102} [data-action=approve]`).count()).toBe(0);
    expect(await page.locator(`${r102} [data-action]`).evaluateAll((b) => b.map((x) => (x as unknown as { dataset: { action: string } }).dataset.action))).toEqual(['deny', 'cancel']);
    expect(await text(`${r102} .note[data-blocked=NoReplacementsRemaining]`)).toMatch(/^No replacement left in this term \(R1, Replacement quotas\)/);
    // the claim's own card agrees, and so does the API
    await page.click(`${r102} .claim-ref`);
    await page.waitForSelector('#claim-card[data-status=open]');
    expect(await page.locator('#claim-card [data-action=approve]').count()).toBe(0);
    expect(await page.locator('#claim-card .note[data-blocked=NoReplacementsRemaining]').count()).toBe(1);
    const r102Id = (await page.getAttribute(r102, 'data-claim-id'))!;
    const refused = await run.call<{ code: string }>('POST', `/v1/claims/${r102Id}/approval`, 'sc1', { at: new Date().toISOString() });
    expect([refused.status, refused.body.code]).toEqual([422, 'NoReplacementsRemaining']);
    await fits(page, 'quota used');
    await shot(page, 'desk-08-quota-used');
  }, 40_000);

  it('desk: an Approve shown before another desk used the quota is refused in words', async () => {
    const ids = [await openClaimViaApi(run, STALE, 'S-1'), await openClaimViaApi(run, STALE, 'S-2'), await openClaimViaApi(run, STALE, 'S-3')];
    await page.click('#claims-refresh');
    const s3 = '#claims-table tr[data-claim-ref="S-3"]';
    await page.waitForSelector(`${s3} [data-action=approve]`);
    // behind this page's back, another desk approves the two others
    for (const id of ids.slice(0, 2)) {
      const r = await run.call('POST', `/v1/claims/${id}/approval`, 'sc1', { at: new Date().toISOString() });
      expect(r.status).toBe(201);
    }
    await page.click(`${s3} [data-action=approve]`);
    await page.click('tr.action-row[data-action=approve] button[type=submit]');
    const refusal = 'tr.action-row[data-action=approve] .problem[data-code=NoReplacementsRemaining]';
    await page.waitForSelector(refusal);
    expect(await text(refusal)).toMatch(/^Approve refused: 422 NoReplacementsRemaining · rule R1 — .+R1: Replacement quotas$/);
    await shot(page, 'desk-09-stale-approve-refused');
    await page.click('#claims-refresh');
    await page.waitForSelector(`${s3} .note[data-blocked=NoReplacementsRemaining]`);
    expect(await page.locator(`${s3} [data-action=approve]`).count()).toBe(0);
  }, 30_000);

  it('desk: the center\'s statistics, with the chart', async () => {
    await page.click('.tabs [data-tab=stats]');
    await page.waitForSelector('#stats-card');
    expect(await text('[data-field="claims.fulfilled"] .v')).toBe('1');
    expect(await text('[data-field=feesCollected] .v')).toBe('159.00 USD');
    expect(await page.locator('#stats-chart rect').count()).toBe(12);
    await fits(page, 'statistics');
    await shot(page, 'desk-10-statistics');
  }, 20_000);

  it('desk: an auditor chooses a center, reads the queue without actions, and compares known-now with known-then', async () => {
    await signOut(page);
    expect(await page.evaluate(SESSION_TOKEN)).toBeNull();
    await signIn(page, 'auditor');
    expect(await text('#whoami')).toBe('auditor');
    expect(await page.isVisible('#center-form')).toBe(true);
    expect(await page.isVisible('#center-locked')).toBe(false);
    await page.click('.tabs [data-tab=claims]');
    await page.waitForSelector('#claims-list .empty:has-text("Choose a service center")');
    await page.fill('#session-center', 'SC-1');
    await page.click('#center-form button[type=submit]');
    await page.waitForSelector('#claims-table tr[data-claim-ref="R-102"]');
    // read-only: no claim form, no action, and it says so
    expect(await page.isVisible('#open-claim-toggle')).toBe(false);
    expect(await page.locator('#claims-table [data-action]').count()).toBe(0);
    expect(await page.locator('#claims-table th').allTextContents()).not.toContain('Actions');
    expect(await page.isVisible('#claims-readonly')).toBe(true);
    await page.click('#claims-table tr[data-claim-ref="R-102"] .claim-ref');
    await page.waitForSelector('#claim-card[data-status=open]');
    expect(await page.locator('#claim-card [data-action]').count()).toBe(0);
    expect(await page.evaluate(STORAGE)).toEqual({ token: DASHBOARD_TOKENS.auditor.token, center: 'SC-1', local: 0, cookie: '' });
    await shot(page, 'desk-11-auditor-queue');

    await lookUp(page, REPLACEMENT);
    expect(await page.locator('#claim-for-unit').count()).toBe(0);
    expect(await text('#unit-claims h3')).toMatch(/^Open claims \(2\)/);

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
    await fits(page, 'audit');
    await shot(page, 'desk-12-audit');
  }, 40_000);

  it('desk: sales sees lookups and history only: no queue, no claim, no decision log', async () => {
    await signOut(page);
    await signIn(page, 'sales');
    expect(await page.locator('.tabs button:visible').allTextContents()).toEqual(['Unit lookup', 'History & disputes']);
    expect(await page.isVisible('#center-form')).toBe(false);
    await lookUp(page, REPLACEMENT);
    expect(await page.locator('#claim-for-unit').count()).toBe(0);
    // the open claims are listed, without a link sales could not follow
    expect(await text('#unit-claims h3')).toMatch(/^Open claims \(2\)/);
    expect(await page.locator('#unit-claims [data-open-claim]').count()).toBe(0);
    // a queue by its address falls back to the lookup
    await page.goto(`${run.base}/dashboard#claims`);
    await page.waitForSelector('#app:not([hidden])');
    expect(await page.isVisible('#tab-lookup')).toBe(true);
    expect(await page.isVisible('#tab-claims')).toBe(false);
    await page.click('.tabs [data-tab=audit]');
    await page.fill('#audit-serial', REPLACEMENT);
    await page.click('#audit-form button[type=submit]');
    await page.waitForSelector('#audit-history');
    expect(await page.locator('#audit-decisions').count()).toBe(0);
    expect(await page.locator('#audit-result .problem').count()).toBe(0);
    await shot(page, 'desk-13-sales');
    expect(errors).toEqual([]);
  }, 30_000);

  it('phone (390 px): every view fits the width, the queue is cards, charts are drawn readable', async () => {
    const { context, page: phone } = await launch({ width: 390, height: 844 }, true);
    try {
      await phone.goto(`${run.base}/dashboard`);
      await phone.waitForSelector('body[data-ready=true]');
      await fits(phone, 'phone: signed out');
      await shot(phone, 'phone-01-signed-out');
      await signIn(phone, 'sc1');
      await phone.waitForSelector('#center-locked:has-text("Los Angeles")');
      await fits(phone, 'phone: signed in');

      // the unit card, its timeline and the "why" as cards
      await lookUp(phone, REPLACEMENT);
      await phone.click('#explain summary');
      await phone.waitForSelector('#explain-table tr[data-field="replacement.remaining"]');
      await fits(phone, 'phone: lookup');
      const timeline = (await phone.evaluate(SVG_TEXT)) as { texts: number; minHeight: number; outside: string[]; axisOverlaps: number; laneOverBar: number; scale: number };
      expect(timeline.texts).toBeGreaterThan(5);
      // drawn at the width it gets (1:1), so 11 px text stays 11 px; nothing runs out or overlaps
      expect(timeline.scale).toBeGreaterThan(0.95);
      expect(timeline.minHeight).toBeGreaterThanOrEqual(11);
      expect(timeline).toMatchObject({ outside: [], axisOverlaps: 0, laneOverBar: 0 });
      const why = (await phone.evaluate(`(() => { const td = document.querySelector('#explain-table tr[data-field="replacement.remaining"] td[data-label=Facts] .cell'); return td.getBoundingClientRect().width; })()`)) as number;
      expect(why).toBeGreaterThan(180);
      await shot(phone, 'phone-02-lookup');

      // the queue: one card per claim, no column squeezed
      await phone.click('.tabs [data-tab=claims]');
      await phone.waitForSelector('#claims-table tr[data-claim-ref="R-100"]');
      await fits(phone, 'phone: queue');
      const cells = (await phone.evaluate(CLAIM_CELLS)) as { cells: number; narrowest: number; opened: number; display: string; header: string };
      expect(cells.cells).toBeGreaterThan(20);
      expect({ display: cells.display, header: cells.header }).toEqual({ display: 'block', header: 'none' });
      expect(cells.narrowest).toBeGreaterThan(200);
      expect(cells.opened).toBeGreaterThan(200);
      await shot(phone, 'phone-03-queue');

      // an action form inside the card, the claim's own card, the claim form
      const r101 = '#claims-table tr[data-claim-ref="R-101"]';
      await phone.click(`${r101} [data-action=pay]`);
      await phone.waitForSelector('tr.action-row[data-action=pay]');
      await fits(phone, 'phone: payment form');
      await shot(phone, 'phone-04-payment-form');
      await phone.click(`${r101} .claim-ref`);
      await phone.waitForSelector('#claim-card');
      await fits(phone, 'phone: claim card');
      await phone.click('#open-claim-toggle');
      await phone.waitForSelector('#open-claim:not([hidden])');
      await fits(phone, 'phone: claim form');
      await shot(phone, 'phone-05-claim-form');

      await phone.click('.tabs [data-tab=stats]');
      await phone.waitForSelector('#stats-chart');
      await fits(phone, 'phone: statistics');
      const chart = (await phone.evaluate(SVG_TEXT)) as { texts: number; minHeight: number; outside: string[]; scale: number };
      expect(chart.texts).toBe(12);
      expect(chart.scale).toBeGreaterThan(0.95);
      expect(chart.minHeight).toBeGreaterThanOrEqual(11);
      expect(chart.outside).toEqual([]);
      await shot(phone, 'phone-06-statistics');

      // the auditor's side-by-side views and the wide tables (which scroll inside their own box)
      await signOut(phone);
      await signIn(phone, 'auditor');
      await phone.click('.tabs [data-tab=audit]');
      await phone.fill('#audit-serial', REPLACEMENT);
      await phone.fill('#audit-known', knownBeforeFulfilment);
      await phone.click('#audit-form button[type=submit]');
      await phone.waitForSelector('#audit-decisions');
      await fits(phone, 'phone: audit');
      const boxes = (await phone.evaluate(`[...document.querySelectorAll('.table-wrap.scroll')].map((w) => ({ scrolls: w.scrollWidth > w.clientWidth, fits: w.getBoundingClientRect().right <= document.documentElement.clientWidth }))`)) as { scrolls: boolean; fits: boolean }[];
      expect(boxes.length).toBe(3);
      for (const box of boxes) expect(box).toEqual({ scrolls: true, fits: true });
      const compare = (await phone.evaluate(SVG_TEXT)) as { minHeight: number; outside: string[]; scale: number };
      expect(compare.scale).toBeGreaterThan(0.95);
      expect(compare.minHeight).toBeGreaterThanOrEqual(11);
      await shot(phone, 'phone-07-audit');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);
});
