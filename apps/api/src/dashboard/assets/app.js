// CareLedger service desk: one vanilla ES module, no dependencies, no outside network, no inline
// script or style (it runs under script-src 'self' and style-src 'self'). Every data call goes to
// the v1 API (API.md) with the agent's token as a Bearer credential; the token lives in
// sessionStorage only (this tab), never in localStorage or cookies. Who the agent is (role and,
// for a service center, its center) comes from GET /v1/me: the page offers only what the role may do.

// Refusal codes and their rules, every rule id of RULES.md with a short title, and the entitlement
// fields in words: the server's own maps (libs/domain/src/codes.ts, rule-titles.ts), rendered once
// at start-up, so the desk and the statements read the same words.
import { FIELD_LABELS, RULE_OF, RULE_TITLES } from './labels.js';

const TOKEN_KEY = 'careledger.dashboard.token';
const CENTER_KEY = 'careledger.dashboard.center';
const TABS = ['lookup', 'claims', 'stats', 'audit'];
const IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;
const LOCAL_INSTANT = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

const REASONS = {
  NoPlanToRenew: 'there is no plan chain to renew',
  RenewalWindowClosed: 'the latest plan ended more than 15 days ago',
  MaxTermExceeded: 'the chain would cover more than 36 months',
  RenewalMustBe1Year: 'only a 1-Year plan can renew a chain',
  PlanExpired: 'the 1-Year plan has expired (Care Refresh+ has no grace period)',
  NotAllowedWith2YearPlan: 'the chain has a 2-Year plan',
  ProductDiscontinued: 'Care Refresh+ is not sold under this policy version',
  NoReplacementsRemaining: 'no replacement is left in the term',
  DeviceNotCovered: 'this unit is not the one bound to the plan',
  FlyawayQuotaExhausted: 'no flyaway replacement is left',
};

const CAUSES = ['collision', 'water', 'drop', 'crack', 'screen', 'wear', 'flyaway', 'loss', 'theft', 'abandonment', 'intentional', 'cosmetic', 'force-majeure', 'modification', 'other'];

const STATUSES = [
  ['', 'All'], ['open', 'Open'], ['approved', 'Approved'], ['awaitingPayment', 'Awaiting payment'], ['paid', 'Paid'],
  ['fulfilled', 'Fulfilled'], ['denied', 'Denied'], ['cancelled', 'Cancelled'],
];
const LIVE_STATUSES = ['open', 'approved', 'paid'];

const ACTIONS = {
  approve: { label: 'Approve', path: 'approval', done: 'approved' },
  pay: { label: 'Record payment', path: 'payment', done: 'payment recorded' },
  fulfil: { label: 'Fulfil', path: 'fulfilment', done: 'fulfilled' },
  deny: { label: 'Deny', path: 'denial', done: 'denied', danger: true },
  cancel: { label: 'Cancel claim', path: 'cancellation', done: 'cancelled', danger: true },
};
const ACTIONS_BY_STATUS = {
  open: ['approve', 'deny', 'cancel'],
  approved: ['pay', 'deny', 'cancel'],
  paid: ['fulfil', 'cancel'],
};

const state = {
  token: null,
  /** GET /v1/me: { role, roleText, actor, centerId } */
  me: null,
  center: '',
  centerName: null,
  tab: 'lookup',
  claimsStatus: '',
  claims: [],
  claimsCursor: null,
  /** serial -> why Approve is not offered for its open claims (null: it is) */
  approvalBlock: new Map(),
  /** the global position of the last command this page sent (read-your-writes) */
  lastPosition: undefined,
};

// ---------------------------------------------------------------- DOM helpers

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

/** h('div', { class: 'x', on: { click } }, 'text', child, [children]) — text is never parsed as HTML. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'on') for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    else if (key === 'value' && 'value' in el) el.value = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

function badge(value, extra) {
  return h('span', { class: `badge ${String(value).replace(/[^a-z-]/gi, '')}`, ...extra }, value);
}

/** A table cell that stacks as "label: value" on a phone (see .stack in app.css); its content in one box. */
const td = (label, attrs, ...children) => {
  const empty = children.flat(Infinity).every((c) => c === null || c === undefined || c === false || c === '—' || c === '');
  return h('td', { 'data-label': label, 'data-empty': empty ? '' : null, ...attrs }, h('div', { class: 'cell' }, empty ? '—' : children));
};

// ---------------------------------------------------------------- time and formats

const pad = (n, width = 2) => String(Math.trunc(Math.abs(n))).padStart(width, '0');

function offsetText(minutesEast) {
  const sign = minutesEast >= 0 ? '+' : '-';
  return `${sign}${pad(minutesEast / 60)}:${pad(minutesEast % 60)}`;
}

/** The current time (or `date`) as an ISO-8601 instant with this browser's offset, ms precision. */
function isoNow(date = new Date()) {
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}` +
    offsetText(-date.getTimezoneOffset())
  );
}

function localDate(date = new Date()) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** An instant as typed: with an offset it is kept; without one, this browser's offset is added. */
function normalizeInstant(value) {
  const v = (value ?? '').trim();
  if (!v || INSTANT.test(v)) return v;
  if (LOCAL_INSTANT.test(v)) {
    const text = v.replace(' ', 'T');
    const local = new Date(text.length === 16 ? `${text}:00` : text);
    if (!Number.isNaN(local.getTime())) return `${text}${offsetText(-local.getTimezoneOffset())}`;
  }
  return v; // the API answers 400 with the field's message
}

/** A business time: a date YYYY-MM-DD or an instant. */
function normalizeAt(value) {
  const v = (value ?? '').trim();
  return DATE.test(v) ? v : normalizeInstant(v);
}

const fmtMoney = (m) => (m ? `${m.amount} ${m.currency}` : '—');
const fmtWindow = (w) => (w ? `${w.from} → ${w.until}` : '—');
const fmtInstant = (t) => (t ? String(t).replace('T', ' ').replace(/(:\d{2})\.\d+/, '$1') : '—');
const shortId = (id) => String(id ?? '').slice(0, 8);

function ruleOf(code, field) {
  if (field === 'carePlus' && code === 'NoReplacementsRemaining') return 'N3';
  return RULE_OF[code] ?? null;
}

const ruleText = (id) => (RULE_TITLES[id] ? `${id} · ${RULE_TITLES[id]}` : id);

function newKey() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

// ---------------------------------------------------------------- roles

const role = () => state.me?.role ?? null;
/** What the signed-in role may do (API.md roles); the page offers nothing else. */
const may = {
  /** the center's claim queue and figures */
  seeCenter: () => ['service-center', 'auditor', 'admin'].includes(role()),
  /** open claims and move them through the workflow */
  actOnClaims: () => ['service-center', 'admin'].includes(role()),
  /** a claim's own view (a service center: its own claims) */
  readClaims: () => ['service-center', 'auditor', 'admin'].includes(role()),
  /** the decision log */
  readDecisions: () => ['auditor', 'admin'].includes(role()),
  /** pick any center (a service center's comes with its token) */
  chooseCenter: () => ['auditor', 'admin'].includes(role()),
  /** see what a correction would do (POST /v1/corrections/preview) */
  previewCorrection: () => ['auditor', 'admin'].includes(role()),
  /** record a correction */
  correct: () => role() === 'admin',
};
const tabAllowed = (name) => (name === 'claims' || name === 'stats' ? may.seeCenter() : true);

// ---------------------------------------------------------------- API

async function api(method, path, { query, body, key } = {}) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, String(value));
  }
  const headers = { Accept: 'application/json, application/problem+json', Authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (key) headers['Idempotency-Key'] = key;
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'omit', cache: 'no-store' });
  } catch (error) {
    return { ok: false, status: 0, problem: { status: 0, code: 'NetworkError', detail: `The API could not be reached (${error.message}).` } };
  }
  const text = await response.text();
  let data;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (response.ok) return { ok: true, status: response.status, data };
  const problem =
    data && typeof data === 'object' && typeof data.code === 'string'
      ? data
      : { status: response.status, code: `HTTP${response.status}`, detail: text.slice(0, 300) || response.statusText };
  if (response.status === 401) signOut(`${problem.detail || 'The token is not valid.'} Sign in again.`);
  return { ok: false, status: response.status, problem };
}

/** A problem+json answer, with its code and (for business refusals) the rule that refused, in words. */
function problemView(p, context) {
  const rule = p.rule ?? RULE_OF[p.code] ?? null;
  return h(
    'div',
    { class: 'problem', role: 'alert', 'data-code': p.code, 'data-rule': rule ?? '', 'data-status': p.status },
    h('div', null,
      context ? `${context}: ` : '',
      h('span', { class: 'code' }, `${p.status ? `${p.status} ` : ''}${p.code}`),
      rule ? h('span', { class: 'rule', title: RULE_TITLES[rule] ?? '' }, ` · rule ${rule}`) : null,
      p.detail ? ` — ${p.detail}` : ''),
    rule && RULE_TITLES[rule] ? h('div', { class: 'rule-title' }, `${rule}: ${RULE_TITLES[rule]}`) : null,
    Array.isArray(p.errors) && p.errors.length > 0
      ? h('ul', null, p.errors.map((e) => h('li', null, h('code', null, e.field || '(body)'), ' ', e.message)))
      : null,
    p.status === 403 ? h('div', null, 'This token may not see or do this: a service-center token acts for its own center only.') : null,
  );
}

const loading = () => h('div', { class: 'empty' }, 'Loading…');

function banner(message, kind = 'error') {
  const el = $('#banner');
  if (!message) {
    el.hidden = true;
    el.textContent = '';
    return;
  }
  el.className = `banner ${kind === 'info' ? 'info' : ''}`;
  el.textContent = message;
  el.hidden = false;
  clearTimeout(banner.timer);
  if (kind === 'info') {
    banner.timer = setTimeout(() => {
      if (el.textContent === message) banner(null);
    }, 4000);
  }
}

// ---------------------------------------------------------------- session

/** Asks who the token is; keeps it (this tab only) when the API knows it. */
async function signIn(token, { restoring = false } = {}) {
  state.token = token;
  const r = await api('GET', '/v1/me');
  if (!r.ok) {
    // a 401 has signed out already with the API's words
    if (r.status !== 401) signOut(`${r.problem.status} ${r.problem.code}: ${r.problem.detail ?? 'the API did not say who this token is.'}`);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  state.me = r.data;
  state.center = r.data.centerId ?? (may.chooseCenter() ? sessionStorage.getItem(CENTER_KEY) ?? '' : '');
  state.centerName = null;
  if (!restoring) banner('Signed in. The token is kept for this tab only.', 'info');
  showApp();
  if (state.center && may.seeCenter()) void loadCenterName();
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  state.me = null;
  state.claims = [];
  state.claimsCursor = null;
  state.approvalBlock = new Map();
  for (const id of ['#lookup-result', '#claims-list', '#claims-message', '#claim-detail', '#stats-result', '#audit-result']) $(id).replaceChildren();
  resetClaimForm($('#open-claim'));
  $('#open-claim').hidden = true;
  $('#correction-form').reset();
  $('#correction-form').hidden = true;
  resetPreview();
  $('#signin-token').value = '';
  $('#signin').hidden = false;
  $('#session').hidden = true;
  $('#app').hidden = true;
  $('#signed-out').hidden = false;
  banner(message ?? null);
}

function showApp() {
  const me = state.me;
  $('#signin').hidden = true;
  $('#session').hidden = false;
  $('#whoami').textContent = me.actor && me.actor !== me.roleText ? `${me.actor} (${me.roleText})` : me.roleText;
  $('#whoami').dataset.role = me.role;
  $('#center-form').hidden = !may.chooseCenter();
  $('#session-center').value = state.center;
  $('#center-locked').hidden = role() !== 'service-center';
  renderCenterLabel();
  for (const button of $$('.tabs button')) button.hidden = !tabAllowed(button.dataset.tab);
  $('#open-claim-toggle').hidden = !may.actOnClaims();
  $('#correction-toggle').hidden = !may.previewCorrection();
  $('#correction-record').hidden = !may.correct();
  $('#correction-readonly').hidden = may.correct();
  $('#claims-readonly').hidden = !(may.seeCenter() && !may.actOnClaims());
  $('#signed-out').hidden = true;
  $('#app').hidden = false;
  const fromHash = location.hash.slice(1);
  const wanted = TABS.includes(fromHash) ? fromHash : state.tab;
  selectTab(tabAllowed(wanted) ? wanted : 'lookup');
}

function renderCenterLabel() {
  const el = $('#center-locked');
  el.replaceChildren('Center ', h('b', { id: 'center-id' }, state.center), state.centerName ? ` · ${state.centerName}` : '', h('span', { class: 'muted' }, ' (from your token)'));
  $('#open-claim-center').textContent = state.center ? `at ${state.center}` : '';
}

/** The center's name from its figures, once; a refusal is said at once. */
async function loadCenterName() {
  const center = state.center;
  const r = await api('GET', `/v1/service-centers/${encodeURIComponent(center)}/dashboard`);
  if (!state.token || center !== state.center) return;
  if (r.ok) {
    state.centerName = r.data.name ?? null;
    renderCenterLabel();
  } else if (r.status !== 401) {
    banner(`${r.problem.status} ${r.problem.code}: ${r.problem.detail ?? ''} Unit lookups may still work.`);
  }
}

function setCenter(center) {
  state.center = center;
  state.centerName = null;
  sessionStorage.setItem(CENTER_KEY, center);
  $('#session-center').value = center;
  state.claims = [];
  state.claimsCursor = null;
  $('#claim-detail').replaceChildren();
  $('#claims-message').replaceChildren();
  renderCenterLabel();
  if (state.tab === 'claims') void loadClaims();
  if (state.tab === 'stats') void loadStats();
}

function centerMissing(target) {
  if (state.center) return false;
  target.replaceChildren(h('div', { class: 'empty' }, 'Choose a service center at the top (Center, then Switch).'));
  return true;
}

// ---------------------------------------------------------------- tabs

function selectTab(name) {
  if (!tabAllowed(name)) name = 'lookup';
  state.tab = name;
  for (const button of $$('.tabs button')) button.setAttribute('aria-selected', String(button.dataset.tab === name));
  for (const tab of TABS) $(`#tab-${tab}`).hidden = tab !== name;
  if (location.hash !== `#${name}`) history.replaceState(null, '', `#${name}`);
  if (name === 'claims') void loadClaims();
  if (name === 'stats') void loadStats();
}

// ---------------------------------------------------------------- unit lookup

async function lookup(serial, at) {
  const out = $('#lookup-result');
  out.replaceChildren(loading());
  const path = `/v1/devices/${encodeURIComponent(serial)}`;
  const [r, hist] = await Promise.all([
    api('GET', `${path}/entitlements`, { query: { at: normalizeAt(at), explain: 'true', minPosition: state.lastPosition } }),
    api('GET', `${path}/history`, { query: { minPosition: state.lastPosition } }),
  ]);
  if (!state.token) return;
  if (!r.ok) {
    out.replaceChildren(problemView(r.problem, `Lookup of ${serial}`));
    return;
  }
  const events = new Map((hist.ok ? hist.data.events ?? [] : []).map((e) => [e.eventId, e]));
  const claims = r.data.planId ? await unitClaims(r.data.planId) : { ok: true, items: [] };
  if (!state.token) return;
  out.replaceChildren(entitlementCard(r.data, events, claims));
}

/** The plan's claims (GET /v1/plans/{planId}); the live ones with their details where the role may read them. */
async function unitClaims(planId) {
  const plan = await api('GET', `/v1/plans/${encodeURIComponent(planId)}`);
  if (!plan.ok) return { ok: false, problem: plan.problem, items: [] };
  const items = plan.data.claims ?? [];
  const live = items.filter((c) => LIVE_STATUSES.includes(c.status));
  const details = may.readClaims()
    ? await Promise.all(live.map((c) => api('GET', `/v1/claims/${encodeURIComponent(c.claimId)}`)))
    : live.map(() => null);
  return {
    ok: true,
    items,
    live: live.map((c, i) => ({ ...c, detail: details[i]?.ok ? details[i].data : null, elsewhere: details[i]?.status === 403 })),
  };
}

function lookupSerial(serial) {
  $('#lookup-serial').value = serial;
  $('#lookup-at').value = '';
  selectTab('lookup');
  void lookup(serial, '');
}

function serialLink(serial) {
  return h('button', { type: 'button', class: 'link mono', title: `Look up ${serial}`, on: { click: () => lookupSerial(serial) } }, serial);
}

function entitlementCard(v, events, claims) {
  const repl = v.replacement ?? {};
  const explanation = Object.fromEntries((v.explanation ?? []).map((e) => [e.field, e]));
  const rulesFor = (field) => explanation[field]?.rules ?? [];
  return h('div', { class: 'card', 'data-serial': v.serial, id: 'entitlement-card' },
    h('div', { class: 'unit-head' },
      h('span', { class: 'serial mono' }, v.serial),
      badge(v.coverage, { 'data-field': 'coverage', title: `coverage (rules ${rulesFor('coverage').join(', ') || '—'})` }),
      h('span', null, [v.model, v.region].filter(Boolean).join(' · ') || 'unknown model'),
      v.policyVersion ? h('span', { class: 'muted' }, `policy ${v.policyVersion}`) : null,
      v.planId ? h('span', { class: 'muted' }, 'plan ', h('code', { class: 'wrap' }, v.planId)) : null,
      h('span', { class: 'muted' }, `as of ${fmtInstant(v.at)} · checkpoint ${v.checkpoint ?? '—'}`),
    ),
    unitsView(v),
    unitClaimsView(v, claims),
    h('div', { class: 'tiles' },
      tile('Replacements left', repl.remaining ?? 0, `used ${repl.used ?? 0}`, 'replacement.remaining'),
      tile('Flyaway left', repl.flyawayRemaining ?? 0, 'of the total', 'replacement.flyawayRemaining'),
      tile('Next damage fee', fmtMoney(repl.nextFee?.damage), 'next replacement', 'replacement.nextFee.damage'),
      tile('Next flyaway fee', fmtMoney(repl.nextFee?.flyaway), repl.nextFee?.flyaway ? 'flyaway replacement' : 'not available', 'replacement.nextFee.flyaway'),
      tile('Warranty covered until', v.warranty?.coveredUntil ?? '—', 'exclusive end', 'warranty.coveredUntil'),
      tile('Discounted repairs', v.discountedRepairs?.remaining ?? 0, 'left', 'discountedRepairs.remaining'),
      tile('Factory maintenance', v.factoryMaintenance?.remaining ?? 0, 'left', 'factoryMaintenance.remaining'),
      tile('Safe-use reward', v.safeUseReward?.status ?? '—', fmtWindow(v.safeUseReward?.window), 'safeUseReward.status'),
    ),
    h('h3', null, 'Windows'),
    timelineView(v),
    h('div', { class: 'grid2' },
      h('div', null,
        h('h3', null, 'Plan chain'),
        v.chain?.length
          ? h('table', { class: 'chain' },
              h('thead', null, h('tr', null, h('th', null, 'Term'), h('th', null, 'From'), h('th', null, 'Until (exclusive)'))),
              h('tbody', null, v.chain.map((t) => h('tr', null, h('td', null, t.kind), h('td', null, t.from), h('td', null, t.until)))))
          : h('div', { class: 'empty' }, 'No plan.'),
        h('h3', null, 'Warranty'),
        h('table', null, h('tbody', null,
          h('tr', null, h('th', null, 'Official'), h('td', null, fmtWindow(v.warranty?.official))),
          (v.warranty?.extensions ?? []).map((e) => h('tr', null, h('th', null, e.kind), h('td', null, fmtWindow(e), ' ', badge(e.status)))),
        )),
      ),
      h('div', null,
        h('h3', null, 'Renewal and Care Refresh+'),
        eligibilityView('Renewal (1-Year)', v.renewal, 'renewal', rulesFor('renewal')),
        h('div', { class: 'gap' }),
        eligibilityView('Care Refresh+', v.carePlus, 'carePlus', rulesFor('carePlus')),
        v.conflicts?.length
          ? [h('h3', null, 'Conflicts to settle'), v.conflicts.map((c) => h('div', { class: 'problem' }, h('span', { class: 'code' }, `rule ${ruleText(c.rule)}`), ` — ${c.detail} `, h('code', { class: 'wrap' }, (c.eventIds ?? []).join(', '))))]
          : null,
        h('h3', null, 'Replacement window'),
        h('div', null, fmtWindow(repl.window)),
      ),
    ),
    v.explanation?.length ? explanationView(v.explanation, events) : null,
    h('div', { class: 'actions card-actions' },
      may.actOnClaims() && v.coverage === 'active'
        ? h('button', { type: 'button', id: 'claim-for-unit', on: { click: () => openClaimForm(v.serial) } }, `Open a claim for ${v.serial}`)
        : null,
      h('button', { type: 'button', class: 'secondary', on: { click: () => openAudit(v.serial) } }, 'History and disputes for this unit'),
    ),
  );
}

/** The unit's open claims (open, approved or paid), from its plan; the closed ones counted. */
function unitClaimsView(v, claims) {
  if (!v.planId) return null;
  if (!claims.ok) return h('div', { id: 'unit-claims' }, problemView(claims.problem, 'The plan\'s claims'));
  const live = claims.live ?? [];
  const closed = claims.items.length - live.length;
  const head = h('h3', null, `Open claims (${live.length})`, closed ? h('span', { class: 'muted' }, ` · ${closed} closed on this plan`) : null);
  if (live.length === 0) return h('div', { id: 'unit-claims', 'data-open': '0' }, head, h('div', { class: 'empty' }, 'No open claim on this unit\'s plan.'));
  return h('div', { id: 'unit-claims', 'data-open': String(live.length) }, head,
    h('ul', { class: 'claim-list' }, live.map((c) => {
      const d = c.detail;
      return h('li', { 'data-claim-id': c.claimId, 'data-claim-ref': c.claimRef, 'data-status': c.status },
        h('b', null, c.claimRef), ' ', badge(c.status), ' ', c.kind,
        c.serial !== v.serial ? h('span', { class: 'muted' }, ` · on ${c.serial}`) : null,
        d ? h('span', { class: 'muted' }, ` · opened ${fmtInstant(d.openedAt)} at ${d.serviceCenterId}${d.fee ? ` · fee ${fmtMoney(d.fee)}` : ''}`) : null,
        c.elsewhere ? h('span', { class: 'muted' }, ' · at another service center') : null,
        ' ',
        d ? h('button', { type: 'button', class: 'link', 'data-open-claim': c.claimId, on: { click: () => showClaim(c.claimId) } }, 'Show claim') : null,
        h('span', { class: 'sub mono', title: `claim id ${c.claimId}` }, shortId(c.claimId)),
      );
    })));
}

/** The "why": per field, the rules in words and the facts (event type, when it happened and when it was recorded). */
function explanationView(explanation, events) {
  const rows = explanation.map((e) => h('tr', { 'data-field': e.field },
    td('Field', null, h('b', null, FIELD_LABELS[e.field] ?? e.field), h('div', { class: 'sub mono' }, e.field)),
    td('Rules', null, h('ul', { class: 'rules' }, (e.rules ?? []).map((id) => h('li', { 'data-rule': id, title: `rule ${id}` },
      h('span', { class: 'rule-id' }, id), ' ', RULE_TITLES[id] ?? '')))),
    td('Facts', null, (e.eventIds ?? []).length === 0
      ? h('span', { class: 'muted' }, 'none: the catalogue and the rules alone')
      : h('ul', { class: 'facts' }, e.eventIds.map((id) => {
          const ev = events.get(id);
          return h('li', { 'data-event-id': id, title: `event ${id}${ev ? ` · ${ev.streamId} @ ${ev.revision} · position ${ev.position}` : ''}` },
            ev ? h('b', { class: 'event-type' }, ev.type) : h('span', { class: 'muted' }, 'an event outside this unit\'s history'),
            ev ? h('div', { class: 'when' }, `happened ${fmtInstant(ev.occurredAt)} · recorded ${fmtInstant(ev.recordedAt)}`) : null,
            h('span', { class: 'sub mono' }, shortId(id)));
        }))),
  ));
  return h('details', { class: 'explain', id: 'explain' },
    h('summary', null, 'Why: the rules and facts behind each field'),
    h('table', { id: 'explain-table', class: 'stack stack-block' },
      h('thead', null, h('tr', null, h('th', null, 'Field'), h('th', null, 'Rules'), h('th', null, 'Facts (events)'))),
      h('tbody', null, rows)));
}

function tile(label, value, sub, field) {
  return h('div', { class: 'tile', 'data-field': field }, h('div', { class: 'k' }, label), h('div', { class: 'v' }, value), sub ? h('div', { class: 's' }, sub) : null);
}

function unitsView(v) {
  const older = v.inheritedFrom ?? [];
  if (older.length === 0 && !v.transferredTo) return h('div', { class: 'units muted', 'data-field': 'inheritedFrom' }, 'Original unit of its plan (no replacement in the chain).');
  return h('div', { class: 'units', 'data-field': 'inheritedFrom' },
    h('span', { class: 'muted' }, 'Units of the chain:'),
    older.map((serial) => [h('span', { class: 'unit' }, serialLink(serial)), h('span', { class: 'arrow' }, '→')]),
    h('span', { class: 'unit current mono' }, v.serial),
    v.transferredTo ? [h('span', { class: 'arrow' }, '→'), h('span', { class: 'unit', 'data-field': 'transferredTo' }, serialLink(v.transferredTo))] : null,
    older.length ? h('span', { class: 'muted' }, `inherited from ${older.join(', ')}`) : null,
    v.transferredTo ? h('span', { class: 'muted' }, `coverage moved to ${v.transferredTo}`) : null,
  );
}

function eligibilityView(title, e, field, rules) {
  if (!e) return null;
  const code = e.blockedBy ?? null;
  const rule = code ? ruleOf(code, field) : null;
  return h('div', { class: `eligibility ${e.eligible ? '' : 'refused'}`, 'data-field': field, 'data-code': code ?? '' },
    h('div', null, h('b', null, title), ' ', badge(e.eligible ? 'yes' : 'no', { 'data-eligible': String(e.eligible) })),
    e.eligible
      ? h('div', null, e.deadline ? `Eligible; buy before ${fmtInstant(e.deadline)}.` : 'Eligible.')
      : h('div', null, 'Refused: ', h('code', null, code ?? 'not eligible'), rule ? ` · rule ${rule}` : '', REASONS[code] ? ` — ${REASONS[code]}` : ''),
    rules.length ? h('div', { class: 'muted' }, 'Rules considered: ', rules.map((id, i) => [i ? ', ' : '', h('span', { title: RULE_TITLES[id] ?? id }, id)])) : null,
  );
}

// ---------------------------------------------------------------- charts drawn to the width they get

/** The width a card's content gets in `main`, so that SVG text is drawn at 1:1 and stays readable. */
function contentWidth(max) {
  const main = $('main');
  const width = (main?.clientWidth ?? 960) - (window.innerWidth < 600 ? 56 : 76);
  return Math.max(280, Math.min(max, Math.round(width)));
}

const redraw = new WeakMap();
/** A box holding an SVG that is drawn again at the new width when the window is resized. */
function responsive(className, draw) {
  const box = h('div', { class: className }, draw());
  redraw.set(box, draw);
  return box;
}

let resizeTimer = null;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    for (const box of $$('.timeline-box, .chart-box')) {
      const draw = redraw.get(box);
      if (draw) box.replaceChildren(draw());
    }
  }, 150);
});

// ---------------------------------------------------------------- windows timeline (inline SVG)

const dayOf = (date) => {
  const [y, m, d] = date.slice(0, 10).split('-').map(Number);
  return Date.UTC(y, m - 1, d) / 86_400_000;
};

function timelineView(v) {
  const hasWindows = Boolean(v.chain?.length || v.replacement?.window || v.warranty?.official || v.warranty?.extensions?.length || v.safeUseReward?.window);
  const legend = h('div', { class: 'legend' },
    [['plan', 'plan terms'], ['repl', 'replacement window'], ['warr', 'official warranty'], ['ext', 'warranty extensions'], ['reward', 'safe-use reward']]
      .map(([kind, label]) => h('span', null, h('i', { class: `swatch seg-${kind}` }), label)),
    h('span', null, 'faded: pending · dashed red line: the "as of" time · windows are half-open [from, until)'));
  return h('div', null, responsive('timeline-box', () => timelineSvg(v)), hasWindows ? legend : null);
}

function timelineSvg(v) {
  const lanes = [];
  const chain = (v.chain ?? []).map((t) => ({ ...t, label: t.kind, kind: 'plan' }));
  if (chain.length) lanes.push({ name: 'Plan chain', segments: chain });
  if (v.replacement?.window) lanes.push({ name: 'Replacement', segments: [{ ...v.replacement.window, label: `replacement · ${v.replacement.remaining} left`, kind: 'repl' }] });
  if (v.warranty?.official) lanes.push({ name: 'Warranty', segments: [{ ...v.warranty.official, label: 'official warranty', kind: 'warr' }] });
  const extensions = (v.warranty?.extensions ?? []).filter((e) => e.kind !== 'safe-use-reward');
  if (extensions.length) lanes.push({ name: 'Extensions', segments: extensions.map((e) => ({ ...e, label: `${e.kind}${e.status === 'pending' ? ' (pending)' : ''}`, kind: 'ext', pending: e.status === 'pending' })) });
  if (v.safeUseReward?.window) {
    const st = v.safeUseReward.status;
    lanes.push({ name: 'Safe-use reward', segments: [{ ...v.safeUseReward.window, label: `reward (${st})`, kind: 'reward', pending: st === 'pending' }] });
  }
  if (lanes.length === 0) return h('div', { class: 'empty', 'data-field': 'timeline' }, 'No windows: the unit has no plan or warranty on record at this time.');

  const atDay = v.at ? dayOf(v.at) : null;
  const all = lanes.flatMap((l) => l.segments.flatMap((seg) => [dayOf(seg.from), dayOf(seg.until)]));
  if (atDay !== null) all.push(atDay);
  let min = Math.min(...all);
  let max = Math.max(...all);
  const padDays = Math.max(10, (max - min) * 0.02);
  min -= padDays;
  max += padDays;

  // narrow: each lane's name above its bars, so the bars get the whole width
  const W = contentWidth(960);
  const narrow = W < 560;
  const left = narrow ? 4 : 130, right = 8, top = 26, barH = 20, labelH = narrow ? 16 : 0, laneH = barH + labelH + 10;
  const H = top + lanes.length * laneH + 4;
  const x = (day) => left + ((day - min) / (max - min)) * (W - left - right);
  const svg = s('svg', { class: 'timeline', width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `Coverage windows of ${v.serial}`, 'data-field': 'timeline' });

  // the "as of" marker's label sits in the axis row; month labels that would touch it are left out
  const markerX = atDay !== null ? x(atDay) : null;
  const markerLabel = markerX === null ? null : { from: Math.min(markerX + 4, W - 40), to: Math.min(markerX + 4, W - 40) + 36 };
  // month ticks, thinned so that labels (about 56 px each) never overlap
  const grid = s('g', { class: 'grid' });
  const axis = s('g', { class: 'axis' });
  const start = new Date(min * 86_400_000);
  const months = Math.max(1, Math.round((max - min) / 30.44));
  const fit = Math.max(2, Math.floor((W - left - right) / 64));
  const step = [1, 2, 3, 6, 12, 24, 48].find((k) => months / k <= fit) ?? 48;
  let cursor = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
  while (cursor.getTime() / 86_400_000 < max) {
    const day = cursor.getTime() / 86_400_000;
    if ((cursor.getUTCFullYear() * 12 + cursor.getUTCMonth()) % step === 0) {
      const px = x(day);
      grid.append(s('line', { x1: px, x2: px, y1: top - 4, y2: H - 4 }));
      const label = step >= 12 ? `${cursor.getUTCFullYear()}` : `${cursor.getUTCFullYear()}-${pad(cursor.getUTCMonth() + 1)}`;
      const from = px + 2, to = px + 2 + label.length * 6.5;
      const clash = markerLabel && from < markerLabel.to + 4 && markerLabel.from < to + 4;
      if (to < W && !clash) axis.append(s('text', { x: from, y: 14 }, label));
    }
    cursor = new Date(Date.UTC(cursor.getUTCFullYear(), cursor.getUTCMonth() + 1, 1));
  }
  svg.append(grid, axis);

  const laneLabels = s('g', { class: 'lane-labels' });
  lanes.forEach((lane, i) => {
    const y = top + i * laneH;
    const barY = y + labelH;
    laneLabels.append(s('text', { class: 'lane-label', x: 4, y: narrow ? y + 11 : barY + barH / 2 + 4 }, lane.name));
    for (const seg of lane.segments) {
      const x1 = x(dayOf(seg.from));
      const width = Math.max(2, x(dayOf(seg.until)) - x1);
      const g = s('g', { class: seg.pending ? 'segment pending' : 'segment' },
        s('title', null, `${seg.label}: ${seg.from} → ${seg.until} (until exclusive)`),
        s('rect', { class: `seg-${seg.kind}`, x: x1, y: barY, width, height: barH, rx: 4 }));
      const long = `${seg.label} · ${seg.from} → ${seg.until}`;
      const text = width > long.length * 6.3 + 10 ? long : seg.label;
      if (width > text.length * 6.3 + 10) g.append(s('text', { class: 'bar-label', x: x1 + 6, y: barY + barH / 2 + 4 }, text));
      svg.append(g);
    }
  });

  if (markerX !== null) {
    svg.append(s('line', { class: 'marker', x1: markerX, x2: markerX, y1: top - 8, y2: H - 2 }));
    svg.append(s('text', { class: 'marker-label', x: markerLabel.from, y: 14 }, 'as of'));
  }
  // the lanes' names last, over the marker line, with a halo
  svg.append(laneLabels);
  return svg;
}

// ---------------------------------------------------------------- claim queue

async function loadClaims({ more = false } = {}) {
  const list = $('#claims-list');
  if (centerMissing(list)) return;
  if (!more) list.replaceChildren(loading());
  const center = state.center;
  const r = await api('GET', `/v1/service-centers/${encodeURIComponent(center)}/claims`, {
    query: { status: state.claimsStatus || undefined, cursor: more ? state.claimsCursor : undefined, limit: 50, minPosition: state.lastPosition },
  });
  if (!state.token || center !== state.center) return;
  if (!r.ok) {
    list.replaceChildren(problemView(r.problem, `Claims of ${center}`));
    return;
  }
  state.claims = more ? state.claims.concat(r.data.items) : r.data.items;
  state.claimsCursor = r.data.nextCursor;
  await checkApprovals(state.claims);
  if (!state.token) return;
  renderClaims();
}

/**
 * Whether the open claims' units still have a replacement to approve (the entitlements of each
 * claim's unit: replacement.remaining and, for a flyaway, flyawayRemaining), so that Approve is
 * not offered where the API would refuse it. A refusal is still shown if the state moved on.
 */
async function checkApprovals(claims, { merge = false } = {}) {
  if (!may.actOnClaims()) {
    state.approvalBlock = new Map();
    return;
  }
  const serials = [...new Set(claims.filter((c) => c.status === 'open').map((c) => c.serial))];
  const views = await Promise.all(serials.map((serial) =>
    api('GET', `/v1/devices/${encodeURIComponent(serial)}/entitlements`, { query: { minPosition: state.lastPosition } })));
  // built aside and swapped in whole, so that a queue and a claim card loading at once do not mix
  const next = merge ? new Map(state.approvalBlock) : new Map();
  serials.forEach((serial, i) => next.set(serial, views[i].ok ? views[i].data : null));
  state.approvalBlock = next;
}

/** Why Approve is not offered for a claim, or null. */
function approvalBlocked(claim) {
  const v = state.approvalBlock.get(claim.serial);
  if (!v) return null;
  if (v.coverage === 'transferred') {
    return { code: 'DeviceNotCovered', text: `${claim.serial} was replaced by ${v.transferredTo}: a claim for it would be refused (R3, ${RULE_TITLES.R3}).` };
  }
  const repl = v.replacement ?? {};
  if ((repl.remaining ?? 0) <= 0) {
    return { code: 'NoReplacementsRemaining', text: `No replacement left in this term (R1, ${RULE_TITLES.R1}): approval would be refused. Deny or cancel it.` };
  }
  if (claim.kind === 'flyaway' && (repl.flyawayRemaining ?? 0) <= 0) {
    return { code: 'FlyawayQuotaExhausted', text: `No flyaway replacement left in this term (R1): approval would be refused. Deny or cancel it.` };
  }
  return null;
}

function claimActions(claim, onDone) {
  if (!may.actOnClaims()) return null;
  const names = ACTIONS_BY_STATUS[claim.status] ?? [];
  const blocked = claim.status === 'open' ? approvalBlocked(claim) : null;
  if (names.length === 0) return null;
  return h('div', { class: 'actions' },
    names.filter((name) => !(name === 'approve' && blocked)).map((name) =>
      h('button', { type: 'button', class: ACTIONS[name].danger ? 'danger' : 'secondary', 'data-action': name, on: { click: (event) => onDone(event.currentTarget, claim, name) } }, ACTIONS[name].label)),
    blocked ? h('div', { class: 'note', 'data-blocked': blocked.code }, blocked.text) : null);
}

function renderClaims() {
  const list = $('#claims-list');
  if (state.claims.length === 0) {
    const label = STATUSES.find(([v]) => v === state.claimsStatus)?.[1] ?? '';
    list.replaceChildren(h('div', { class: 'empty' }, `No ${state.claimsStatus ? `${label.toLowerCase()} ` : ''}claims at ${state.center}.`));
    return;
  }
  const acting = may.actOnClaims();
  const rows = state.claims.map((c) =>
    h('tr', { 'data-claim-id': c.claimId, 'data-claim-ref': c.claimRef, 'data-status': c.status },
      td('Claim', null, h('button', { type: 'button', class: 'link claim-ref', title: `Show claim ${c.claimId}`, on: { click: () => showClaim(c.claimId) } }, c.claimRef), h('div', { class: 'sub mono', title: c.claimId }, shortId(c.claimId))),
      td('Serial', null, serialLink(c.serial)),
      td('Kind', null, c.kind, c.express ? ' · express' : '', h('div', { class: 'muted' }, c.cause)),
      td('Status', null, badge(c.status, { 'data-field': 'status' })),
      td('Opened', { class: 'nowrap' }, fmtInstant(c.openedAt), h('div', { class: 'muted' }, `incident ${fmtInstant(c.incidentAt)}`)),
      td('Fee', null, fmtMoney(c.fee), c.ordinal ? h('div', { class: 'muted' }, `replacement #${c.ordinal}`) : null),
      td('Paid', null, c.paid ? fmtMoney(c.paid) : '—'),
      td('Replacement', { 'data-col': 'replacement' }, c.replacementSerial ? serialLink(c.replacementSerial) : '—'),
      acting ? td('Actions', { class: 'actions-cell' }, claimActions(c, toggleAction)) : null,
    ));
  const heads = ['Claim', 'Serial', 'Kind', 'Status', 'Opened', 'Fee', 'Paid', 'Replacement', ...(acting ? ['Actions'] : [])];
  list.replaceChildren(h('div', null,
    h('div', { class: 'table-wrap cards-on-phone' },
      h('table', { id: 'claims-table', class: 'stack' },
        h('thead', null, h('tr', null, heads.map((t) => h('th', null, t)))),
        h('tbody', null, rows))),
    state.claimsCursor ? h('div', { class: 'actions more' }, h('button', { type: 'button', class: 'secondary', on: { click: () => loadClaims({ more: true }) } }, 'Load more')) : null,
  ));
}

function toggleAction(button, claim, name) {
  const row = button.closest('tr');
  if (!row) {
    // the claim card: the form goes under its buttons
    const holder = button.closest('.claim-card')?.querySelector('.action-holder');
    const same = holder?.dataset.action === name;
    holder.replaceChildren();
    holder.dataset.action = '';
    if (same) return;
    holder.dataset.action = name;
    holder.append(actionForm(claim, name));
    holder.querySelector('input:not([name=at])')?.focus();
    return;
  }
  const next = row.nextElementSibling;
  if (next?.classList.contains('action-row')) {
    const same = next.dataset.action === name;
    next.remove();
    if (same) return;
  }
  const form = actionForm(claim, name);
  row.after(h('tr', { class: 'action-row', 'data-action': name, 'data-claim-id': claim.claimId }, h('td', { colspan: 9 }, form)));
  form.querySelector('input:not([name=at])')?.focus();
}

function actionForm(claim, name) {
  const action = ACTIONS[name];
  const fields = [h('label', null, 'At (instant with offset)', h('input', { name: 'at', value: isoNow(), required: true, spellcheck: 'false' }))];
  if (name === 'deny' || name === 'cancel') fields.push(h('label', null, 'Reason', h('input', { name: 'reason', required: true })));
  if (name === 'pay') {
    fields.push(h('label', null, 'Amount', h('input', { name: 'amount', value: claim.fee?.amount ?? '', required: true, class: 'short' })));
    fields.push(h('label', null, 'Currency', h('input', { name: 'currency', value: claim.fee?.currency ?? '', required: true, class: 'short' })));
  }
  if (name === 'fulfil') fields.push(h('label', null, 'Replacement serial', h('input', { name: 'replacementSerial', required: true, spellcheck: 'false' })));
  const result = h('div', { class: 'result' });
  const wrap = h('div', { class: 'action-form' });
  const form = h('form', { class: 'toolbar', autocomplete: 'off', 'data-action': name },
    fields,
    h('button', { type: 'submit', class: action.danger ? 'danger' : '' }, `Confirm: ${action.label.toLowerCase()}`),
    h('button', { type: 'button', class: 'secondary', on: { click: () => (wrap.closest('tr.action-row') ?? wrap).remove() } }, 'Close'),
  );
  wrap.append(h('div', { class: 'muted' }, `${action.label} claim ${claim.claimRef} (${claim.serial})`), form, result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    const body = { at: normalizeInstant(data.at) };
    if (name === 'deny' || name === 'cancel') body.reason = data.reason.trim();
    if (name === 'pay') Object.assign(body, { amount: data.amount.trim(), currency: data.currency.trim().toUpperCase() });
    if (name === 'fulfil') body.replacementSerial = data.replacementSerial.trim();
    const submit = form.querySelector('button[type=submit]');
    submit.disabled = true;
    result.replaceChildren(loading());
    const r = await api('POST', `/v1/claims/${encodeURIComponent(claim.claimId)}/${action.path}`, { body, key: keyFor(form, body) });
    submit.disabled = false;
    if (!r.ok) {
      result.replaceChildren(problemView(r.problem, `${action.label} refused`));
      return;
    }
    state.lastPosition = r.data.position ?? state.lastPosition;
    $('#claims-message').replaceChildren(actionSuccess(claim, name, r.data));
    const shown = $('#claim-detail .claim-card');
    await loadClaims();
    if (shown?.dataset.claimId === claim.claimId) await showClaim(claim.claimId, { scroll: false });
  });
  return wrap;
}

/** One Idempotency-Key per form and body: a double submit is answered once, an edited body is a new command. */
function keyFor(form, body) {
  const text = JSON.stringify(body);
  if (form.dataset.body !== text) {
    form.dataset.body = text;
    form.dataset.key = newKey();
  }
  return form.dataset.key;
}

function actionSuccess(claim, name, data) {
  const text = {
    approve: `Claim ${claim.claimRef} approved: fee ${fmtMoney(data.fee)}${data.ordinal ? ` (replacement #${data.ordinal} of the term)` : ''}.`,
    pay: `Payment recorded for claim ${claim.claimRef}.`,
    fulfil: `Claim ${claim.claimRef} fulfilled: the replacement ${data.replacementSerial ?? ''} now carries the coverage.`,
    deny: `Claim ${claim.claimRef} denied; its quota is released.`,
    cancel: `Claim ${claim.claimRef} cancelled; its quota is released.`,
  }[name];
  return h('div', { class: 'success', role: 'status', 'data-action': name, 'data-claim-ref': claim.claimRef, 'data-claim-id': claim.claimId },
    text, ' ',
    name === 'fulfil' && data.replacementSerial ? serialLink(data.replacementSerial) : null,
    h('span', { class: 'muted' }, ` · position ${data.position ?? '—'}`),
  );
}

// ---------------------------------------------------------------- one claim

/** The claim's own view (GET /v1/claims/{id}) at the top of the queue, with its actions. */
async function showClaim(claimId, { scroll = true } = {}) {
  if (state.tab !== 'claims') selectTab('claims');
  const out = $('#claim-detail');
  out.replaceChildren(loading());
  const r = await api('GET', `/v1/claims/${encodeURIComponent(claimId)}`, { query: { minPosition: state.lastPosition } });
  if (!state.token) return;
  if (!r.ok) {
    out.replaceChildren(problemView(r.problem, `Claim ${claimId}`));
    return;
  }
  const c = r.data;
  if (c.status === 'open' && may.actOnClaims()) await checkApprovals([c], { merge: true });
  const mine = role() !== 'service-center' || c.serviceCenterId === state.center;
  const rows = [
    ['Claim id', h('code', { class: 'wrap', id: 'claim-detail-id' }, c.claimId)],
    ['Unit', serialLink(c.serial)],
    ['Kind', `${c.kind}${c.express ? ' · express' : ''} · cause ${c.cause}`],
    ['Incident', fmtInstant(c.incidentAt)],
    ['Opened', `${fmtInstant(c.openedAt)} at ${c.serviceCenterId}${c.serviceRegion ? ` (${c.serviceRegion})` : ''}`],
    ['Fee', c.fee ? `${fmtMoney(c.fee)}${c.ordinal ? ` · replacement #${c.ordinal} of the term` : ''}` : '—'],
    ['Approved', fmtInstant(c.approvedAt)],
    ['Payments', (c.payments ?? []).length ? c.payments.map((p) => `${fmtMoney(p)} at ${fmtInstant(p.at)}`).join('; ') : '—'],
    ['Fulfilled', c.fulfilledAt ? [fmtInstant(c.fulfilledAt), ' · ', c.replacementSerial ? serialLink(c.replacementSerial) : ''] : '—'],
    c.reason ? ['Reason', c.reason] : null,
    ['Plan', h('code', { class: 'wrap' }, c.planId)],
  ].filter(Boolean);
  const card = h('div', { class: 'card claim-card', id: 'claim-card', 'data-claim-id': c.claimId, 'data-status': c.status },
    h('div', { class: 'unit-head' }, h('span', { class: 'serial' }, `Claim ${c.claimRef}`), badge(c.status, { 'data-field': 'status' }),
      h('span', { class: 'spacer' }),
      h('button', { type: 'button', class: 'secondary', on: { click: () => out.replaceChildren() } }, 'Close')),
    h('table', { class: 'kv' }, h('tbody', null, rows.map(([k, v]) => h('tr', null, h('th', null, k), h('td', null, v))))),
    mine ? claimActions(c, toggleAction) : null,
    h('div', { class: 'action-holder' }));
  out.replaceChildren(card);
  $$('#claims-table tr.selected').forEach((tr) => tr.classList.remove('selected'));
  $(`#claims-table tr[data-claim-id="${CSS.escape(c.claimId)}"]`)?.classList.add('selected');
  if (scroll) card.scrollIntoView({ block: 'nearest' });
}

// ---------------------------------------------------------------- opening a claim

function openClaimForm(serial) {
  const form = $('#open-claim');
  selectTab('claims');
  form.hidden = false;
  form.elements.openedAt.value = isoNow();
  $('.result', form).replaceChildren();
  if (serial) form.elements.serial.value = serial;
  (serial ? form.elements.claimRef : form.elements.claimRef).focus();
}

function resetClaimForm(form) {
  form.reset();
  delete form.dataset.body;
  delete form.dataset.key;
  form.elements.openedAt.value = isoNow();
  $('.result', form).replaceChildren();
}

async function openClaim(form) {
  const result = $('.result', form);
  if (centerMissing(result)) return;
  const data = Object.fromEntries(new FormData(form));
  const body = {
    claimRef: data.claimRef.trim(),
    serial: data.serial.trim(),
    kind: data.kind,
    cause: data.cause,
    incidentAt: normalizeInstant(data.incidentAt),
    openedAt: normalizeInstant(data.openedAt),
    serviceCenterId: state.center,
    express: data.express === 'on',
    flightRecordsSynced: data.flightRecordsSynced === 'on',
  };
  const submit = $('button[type=submit]', form);
  submit.disabled = true;
  result.replaceChildren(loading());
  const r = await api('POST', '/v1/claims', { body, key: keyFor(form, body) });
  submit.disabled = false;
  if (!r.ok) {
    result.replaceChildren(problemView(r.problem, 'Claim refused'));
    return;
  }
  state.lastPosition = r.data.position ?? state.lastPosition;
  // the form is ready for the next claim; the message says which claim this one is
  resetClaimForm(form);
  $('#claims-message').replaceChildren(
    h('div', { class: 'success', role: 'status', id: 'claim-opened', 'data-claim-id': r.data.claimId, 'data-claim-ref': body.claimRef },
      `Claim ${body.claimRef} opened for ${body.serial} (${r.data.status}). Claim id `,
      h('code', { class: 'wrap claim-id' }, r.data.claimId), ' ',
      h('button', { type: 'button', class: 'link', 'data-show-claim': r.data.claimId, on: { click: () => showClaim(r.data.claimId) } }, 'Show the claim')));
  await loadClaims();
}

// ---------------------------------------------------------------- statistics

function preset(name) {
  const today = new Date();
  let from = '';
  let to = '';
  if (name === 'month') {
    from = localDate(new Date(today.getFullYear(), today.getMonth(), 1));
    to = localDate(today);
  } else if (name === '30d') {
    from = localDate(new Date(today.getFullYear(), today.getMonth(), today.getDate() - 29));
    to = localDate(today);
  } else if (name === 'year') {
    from = `${today.getFullYear()}-01-01`;
    to = localDate(today);
  }
  $('#stats-from').value = from;
  $('#stats-to').value = to;
  void loadStats();
}

async function loadStats() {
  const out = $('#stats-result');
  if (centerMissing(out)) return;
  out.replaceChildren(loading());
  const from = $('#stats-from').value;
  const to = $('#stats-to').value;
  const center = state.center;
  const r = await api('GET', `/v1/service-centers/${encodeURIComponent(center)}/dashboard`, { query: { from, to, minPosition: state.lastPosition } });
  if (!state.token || center !== state.center) return;
  if (!r.ok) {
    out.replaceChildren(problemView(r.problem, `Statistics of ${center}`));
    return;
  }
  const d = r.data;
  const c = d.claims ?? {};
  const period = d.from || d.to ? `${d.from ?? 'the beginning'} to ${d.to ?? 'today'} (dates the claims were opened)` : 'all time';
  const bars = [
    ['Open', c.open ?? 0, '#d9a400'],
    ['Approved', c.approved ?? 0, '#e08a2b'],
    ['Awaiting payment', c.awaitingPayment ?? 0, '#c26d1a'],
    ['Fulfilled', c.fulfilled ?? 0, '#2fa37a'],
    ['Denied', c.denied ?? 0, '#c2453b'],
    ['Cancelled', c.cancelled ?? 0, '#8a94a6'],
  ];
  out.replaceChildren(
    h('div', { class: 'card', id: 'stats-card' },
      h('h2', null, d.name ? `${d.name} (${d.centerId ?? center})` : (d.centerId ?? center), d.region ? h('span', { class: 'muted' }, ` · region ${d.region}`) : null),
      h('div', { class: 'muted' }, `Period: ${period} · checkpoint ${d.checkpoint ?? '—'}`),
      h('div', { class: 'tiles' },
        tile('Open', c.open ?? 0, null, 'claims.open'),
        tile('Approved', c.approved ?? 0, 'paid ones included', 'claims.approved'),
        tile('Awaiting payment', c.awaitingPayment ?? 0, null, 'claims.awaitingPayment'),
        tile('Fulfilled', c.fulfilled ?? 0, null, 'claims.fulfilled'),
        tile('Denied', c.denied ?? 0, null, 'claims.denied'),
        tile('Cancelled', c.cancelled ?? 0, null, 'claims.cancelled'),
        tile('Replacements issued', d.replacementsIssued ?? 0, null, 'replacementsIssued'),
        tile('Flyaway share', `${Math.round((d.flyawayShare ?? 0) * 1000) / 10} %`, 'of the claims', 'flyawayShare'),
        tile('Express', d.express ?? 0, 'claims', 'express'),
        tile('Fees collected', (d.feesCollected ?? []).length ? d.feesCollected.map((f) => `${f.amount} ${f.currency}`).join(' · ') : '—', null, 'feesCollected'),
        tile('Median open → fulfilled', d.medianHoursOpenToFulfilment === null || d.medianHoursOpenToFulfilment === undefined ? '—' : `${d.medianHoursOpenToFulfilment} h`, null, 'medianHoursOpenToFulfilment'),
      ),
      h('h3', null, 'Claims by status'),
      responsive('chart-box', () => barChart(bars)),
    ),
  );
}

function barChart(rows) {
  const W = contentWidth(640);
  const left = Math.min(130, Math.round(W * 0.36)), right = 44, barH = 18, gap = 8, top = 4;
  const H = top + rows.length * (barH + gap);
  const max = Math.max(1, ...rows.map(([, n]) => n));
  const svg = s('svg', { class: 'chart', width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Claims by status', id: 'stats-chart' });
  rows.forEach(([label, n, color], i) => {
    const y = top + i * (barH + gap);
    const width = ((W - left - right) * n) / max;
    svg.append(
      s('text', { x: 0, y: y + barH / 2 + 4 }, label),
      s('rect', { x: left, y, width: W - left - right, height: barH, fill: '#f0f2f5', rx: 3 }),
      s('rect', { x: left, y, width: Math.max(n > 0 ? 2 : 0, width), height: barH, fill: color, rx: 3 }, s('title', null, `${label}: ${n}`)),
      s('text', { x: left + width + 6, y: y + barH / 2 + 4 }, String(n)),
    );
  });
  return svg;
}

// ---------------------------------------------------------------- audit and disputes

function openAudit(serial) {
  $('#audit-serial').value = serial;
  selectTab('audit');
  void loadAudit();
}

async function loadAudit() {
  const out = $('#audit-result');
  const serial = $('#audit-serial').value.trim();
  if (!serial) return;
  const atInput = $('#audit-at').value.trim();
  // one business time for both views, so "now" does not differ between the two requests
  const at = atInput ? normalizeAt(atInput) : isoNow();
  const knownAt = normalizeInstant($('#audit-known').value);
  out.replaceChildren(loading());
  const path = `/v1/devices/${encodeURIComponent(serial)}`;
  const [current, then, history, timeline] = await Promise.all([
    api('GET', `${path}/entitlements`, { query: { at, explain: 'false', minPosition: state.lastPosition } }),
    knownAt ? api('GET', `${path}/entitlements`, { query: { at, knownAt, explain: 'false' } }) : null,
    api('GET', `${path}/history`, { query: { minPosition: state.lastPosition } }),
    api('GET', `${path}/timeline`, {}),
  ]);
  if (!state.token) return;
  const decisions = may.readDecisions() ? await decisionsFor(serial, current.ok ? current.data.planId : null) : null;
  if (!state.token) return;
  const knownMs = knownAt ? Date.parse(knownAt) : null;
  out.replaceChildren(
    h('h3', null, `Entitlements of ${serial} as of ${at}`),
    compareView(current, then, knownAt),
    h('h3', null, 'Timeline: the entitlement view after each event, as the ledger knew it then'),
    timeline.ok ? timelineTable(timeline.data.entries ?? [], knownMs) : problemView(timeline.problem, 'Timeline'),
    h('h3', null, 'History: every event that touched the unit or its chain'),
    history.ok ? historyTable(history.data.events ?? [], knownMs) : problemView(history.problem, 'History'),
    // (replaceChildren takes nodes, not arrays or null)
    ...(decisions
      ? [h('h3', null, 'Decision log of this serial and its plan (accepted and refused commands)'),
          decisions.ok ? decisionsTable(decisions.data.items ?? []) : problemView(decisions.problem, 'Decision log')]
      : []),
  );
}

/** The decision log for the serial and, when it has one, its plan (claims on earlier units of the chain too). */
async function decisionsFor(serial, planId) {
  const [bySerial, byPlan] = await Promise.all([
    api('GET', '/v1/audit/decisions', { query: { serial, limit: 500 } }),
    planId ? api('GET', '/v1/audit/decisions', { query: { planId, limit: 500 } }) : null,
  ]);
  if (!bySerial.ok) return bySerial;
  if (!byPlan?.ok) return bySerial;
  const seen = new Map();
  for (const d of [...bySerial.data.items, ...byPlan.data.items]) seen.set(d.decisionId ?? JSON.stringify(d), d);
  const items = [...seen.values()].sort((a, b) => String(a.recordedAt).localeCompare(String(b.recordedAt)));
  return { ok: true, status: 200, data: { items } };
}

function compareView(current, then, knownAt) {
  const column = (title, r, id) =>
    h('div', { class: 'card', id },
      h('h3', null, title),
      !r ? h('div', { class: 'empty' }, 'Enter an "as known at" instant to compare with what the ledger knew then.')
        : !r.ok ? problemView(r.problem)
        : summary(r.data));
  const columns = h('div', { class: 'grid2' },
    column('As known now', current, 'audit-now'),
    column(knownAt ? `As known at ${knownAt}` : 'As known at …', then, 'audit-then'));
  if (!current.ok || !then?.ok) return columns;
  const flatA = flatten(current.data);
  const flatB = flatten(then.data);
  const all = [...new Set([...Object.keys(flatA), ...Object.keys(flatB)])].filter((k) => !['at', 'knownAt', 'checkpoint'].includes(k));
  // where one side is null or empty and the other has fields, compare field by field against that value
  const isChild = (k, parent) => k.startsWith(`${parent}.`) || k.startsWith(`${parent}[`);
  const keys = all.filter((k) => !(k in flatA && k in flatB) ? !all.some((other) => other !== k && isChild(other, k)) : true);
  const valueOf = (flat, k) => (k in flat ? flat[k] : flat[Object.keys(flat).find((parent) => isChild(k, parent))] ?? '—');
  const a = Object.fromEntries(keys.map((k) => [k, valueOf(flatA, k)]));
  const b = Object.fromEntries(keys.map((k) => [k, valueOf(flatB, k)]));
  const differing = keys.filter((k) => a[k] !== b[k]);
  const onlyDiff = h('input', { type: 'checkbox', checked: true });
  const table = h('table', { id: 'audit-diff', class: 'stack' },
    h('thead', null, h('tr', null, h('th', null, 'Field'), h('th', null, 'As known now'), h('th', null, `As known at ${knownAt}`))),
    h('tbody', null, keys.map((k) => h('tr', { class: a[k] !== b[k] ? 'diff' : 'same', 'data-key': k },
      td('Field', null, h('code', { class: 'wrap' }, k)), td('Now', null, h('span', null, a[k] ?? '—')), td('Then', null, h('span', null, b[k] ?? '—'))))));
  const apply = () => { for (const tr of $$('tr.same', table)) tr.hidden = onlyDiff.checked; };
  onlyDiff.addEventListener('change', apply);
  apply();
  return h('div', null, columns,
    h('div', { class: 'card' },
      h('div', { class: 'row' }, h('b', null, differing.length ? `${differing.length} field(s) differ` : 'The two views agree.'), h('label', { class: 'check' }, onlyDiff, 'only differences')),
      table));
}

function summary(v) {
  const repl = v.replacement ?? {};
  return h('div', { 'data-serial': v.serial },
    h('div', { class: 'unit-head' }, badge(v.coverage, { 'data-field': 'coverage' }), h('span', { class: 'muted' }, `as of ${fmtInstant(v.at)} · known at ${fmtInstant(v.knownAt)}`)),
    h('table', { class: 'kv' }, h('tbody', null,
      [
        ['Plan', v.planId ? `${v.planId} (${v.policyVersion})` : '—'],
        ['Chain', (v.chain ?? []).map((t) => `${t.kind} ${t.from}→${t.until}`).join(', ') || '—'],
        ['Units', [...(v.inheritedFrom ?? []), v.serial].join(' → ') + (v.transferredTo ? ` → ${v.transferredTo}` : '')],
        ['Replacements', `${repl.remaining ?? 0} left, ${repl.used ?? 0} used, ${repl.flyawayRemaining ?? 0} flyaway left`],
        ['Next fees', `damage ${fmtMoney(repl.nextFee?.damage)} · flyaway ${fmtMoney(repl.nextFee?.flyaway)}`],
        ['Warranty until', v.warranty?.coveredUntil ?? '—'],
        ['Renewal', v.renewal?.eligible ? `eligible until ${fmtInstant(v.renewal.deadline)}` : `refused: ${v.renewal?.blockedBy ?? '—'}${v.renewal?.blockedBy ? ` (rule ${ruleOf(v.renewal.blockedBy, 'renewal')})` : ''}`],
        ['Care Refresh+', v.carePlus?.eligible ? 'eligible' : `refused: ${v.carePlus?.blockedBy ?? '—'}${v.carePlus?.blockedBy ? ` (rule ${ruleOf(v.carePlus.blockedBy, 'carePlus')})` : ''}`],
      ].map(([k, val]) => h('tr', null, h('th', null, k), h('td', { class: 'wrap' }, val))))),
    timelineView(v),
  );
}

function flatten(value, prefix = '', out = {}) {
  if (value === null || typeof value !== 'object') {
    out[prefix] = value === null ? 'null' : String(value);
  } else if (Array.isArray(value)) {
    if (value.every((x) => x === null || typeof x !== 'object')) out[prefix] = value.length ? value.join(', ') : '[]';
    else value.forEach((x, i) => flatten(x, `${prefix}[${i}]`, out));
  } else {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'explanation') continue;
      flatten(v, prefix ? `${prefix}.${key}` : key, out);
    }
  }
  return out;
}

function laterNote(recordedAt, knownMs) {
  return knownMs !== null && Date.parse(recordedAt) > knownMs ? h('div', { class: 'muted' }, 'recorded after "known at"') : null;
}

function timelineTable(entries, knownMs) {
  if (entries.length === 0) return h('div', { class: 'empty' }, 'No events.');
  return h('div', { class: 'table-wrap scroll' }, h('table', { id: 'audit-timeline', class: 'wide' },
    h('thead', null, h('tr', null, ['Pos', 'Event', 'Occurred', 'Recorded', 'Coverage', 'Replacements', 'Warranty until', 'Renewal', 'Care Refresh+'].map((t) => h('th', null, t)))),
    h('tbody', null, entries.map((e) => {
      const v = e.view ?? {};
      return h('tr', { 'data-position': e.position },
        h('td', { class: 'num' }, e.position),
        h('td', null, e.type),
        h('td', null, fmtInstant(e.occurredAt)),
        h('td', null, fmtInstant(e.recordedAt), laterNote(e.recordedAt, knownMs)),
        h('td', null, badge(v.coverage ?? '—')),
        h('td', null, `${v.replacement?.remaining ?? 0} left / ${v.replacement?.used ?? 0} used`),
        h('td', null, v.warranty?.coveredUntil ?? '—'),
        h('td', null, v.renewal?.eligible ? 'eligible' : v.renewal?.blockedBy ?? '—'),
        h('td', null, v.carePlus?.eligible ? 'eligible' : v.carePlus?.blockedBy ?? '—'),
      );
    }))));
}

function historyTable(events, knownMs) {
  if (events.length === 0) return h('div', { class: 'empty' }, 'No events.');
  const correctable = may.previewCorrection();
  return h('div', { class: 'table-wrap scroll' }, h('table', { id: 'audit-history', class: 'wide' },
    h('thead', null, h('tr', null, ['Pos', 'Event', 'Stream', 'Occurred', 'Recorded', 'Actor', 'Data', ...(correctable ? [''] : [])].map((t) => h('th', null, t)))),
    h('tbody', null, events.map((e) => h('tr', { 'data-position': e.position },
      h('td', { class: 'num' }, e.position),
      h('td', null, e.type, h('div', { class: 'sub mono' }, e.eventId)),
      h('td', { class: 'mono' }, e.streamId),
      h('td', null, fmtInstant(e.occurredAt)),
      h('td', null, fmtInstant(e.recordedAt), laterNote(e.recordedAt, knownMs)),
      h('td', null, e.actor ?? '—'),
      h('td', null, h('details', null, h('summary', null, 'data'), h('pre', null, JSON.stringify(e.data, null, 2)))),
      correctable && e.type !== 'EventCorrected' && e.type !== 'DeviceBoundToPlan'
        ? h('td', null, h('button', { type: 'button', class: 'secondary', 'data-correct': e.eventId, on: { click: () => openCorrection(e.eventId) } }, 'Correct…'))
        : correctable ? h('td', null) : null)))));
}

// ---------------------------------------------------------------- corrections: preview, then record

/** The Idempotency-Key the preview was asked with (the correction is recorded with it, so it gets the id the preview named) and the body it previewed. */
const correction = { key: null, previewed: null };

function correctionBody(form) {
  const action = form.elements.action.value;
  const body = { eventId: form.elements.eventId.value.trim(), action, reason: form.elements.reason.value.trim() };
  const text = form.elements.amendment.value.trim();
  if (action === 'amend' && text) {
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { error: 'The amendment is not JSON: write it as { "field": value }.' };
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return { error: 'The amendment must be a JSON object of the fields to change.' };
    body.amendment = parsed;
  } else if (action === 'void' && text) {
    return { error: 'A void takes no amendment: clear it, or choose amend.' };
  }
  return { body };
}

function resetPreview() {
  correction.key = null;
  correction.previewed = null;
  $('#correction-record').disabled = true;
  $('#correction-result').replaceChildren();
}

function openCorrection(eventId) {
  const form = $('#correction-form');
  form.hidden = false;
  if (eventId) form.elements.eventId.value = eventId;
  resetPreview();
  form.scrollIntoView?.({ block: 'nearest' });
  (eventId ? form.elements.reason : form.elements.eventId).focus();
}

async function previewCorrection(form) {
  const out = $('#correction-result');
  const { body, error } = correctionBody(form);
  resetPreview();
  if (error) {
    out.replaceChildren(h('div', { class: 'problem', role: 'alert' }, error));
    return;
  }
  const key = newKey();
  out.replaceChildren(loading());
  const button = $('#correction-preview');
  button.disabled = true;
  const r = await api('POST', '/v1/corrections/preview', { body, key });
  button.disabled = false;
  if (!state.token) return;
  if (!r.ok) {
    out.replaceChildren(problemView(r.problem, 'Preview'));
    return;
  }
  correction.key = key;
  correction.previewed = JSON.stringify(body);
  $('#correction-record').disabled = !may.correct();
  out.replaceChildren(previewView(r.data));
}

async function recordCorrection(form) {
  const { body } = correctionBody(form);
  if (!body || JSON.stringify(body) !== correction.previewed) {
    resetPreview();
    banner('The correction changed since its preview: preview it again.');
    return;
  }
  const button = $('#correction-record');
  button.disabled = true;
  const r = await api('POST', '/v1/corrections', { body, key: correction.key });
  if (!state.token) return;
  const out = $('#correction-result');
  if (!r.ok) {
    out.prepend(problemView(r.problem, 'Correction'));
    button.disabled = false;
    return;
  }
  state.lastPosition = r.data.position;
  correction.previewed = null;
  out.replaceChildren(h('div', { class: 'verdict', id: 'correction-done', 'data-event-id': r.data.eventIds[0] },
    `Correction recorded: event ${r.data.eventIds[0]} at position ${r.data.position}.`));
  banner('Correction recorded.', 'info');
  if ($('#audit-serial').value.trim()) void loadAudit();
}

function fmtValue(v) {
  if (v === null || v === undefined) return '—';
  if (Array.isArray(v)) {
    if (v.length === 0) return 'none';
    return v.map((x) => (x && typeof x === 'object' ? (x.from && x.until ? `${x.kind ?? x.rule ?? ''} ${fmtWindow(x)}${x.status ? ` (${x.status})` : ''}`.trim() : x.detail ?? JSON.stringify(x)) : String(x))).join('; ');
  }
  if (typeof v === 'object') {
    if ('from' in v && 'until' in v) return fmtWindow(v);
    if ('amount' in v && 'currency' in v) return fmtMoney(v);
    return JSON.stringify(v);
  }
  return String(v);
}

function previewView(p) {
  const turned = p.decisions.filter((d) => d.outcome === 'would-refuse');
  const changed = p.units.filter((u) => u.changes.length > 0);
  const c = p.correction;
  return h('div', { class: 'preview', id: 'correction-preview-result', 'data-event-id': c.eventId },
    h('div', { class: `verdict${turned.length || p.conflicts.length ? ' turns' : ''}` },
      `This ${c.action} of ${c.targetType} would change ${changed.length} unit(s), turn ${turned.length} past decision(s) and raise ${p.conflicts.length} conflict(s). Nothing is recorded yet.`),
    p.units.length === 0 ? h('div', { class: 'muted' }, 'It touches no unit\'s entitlements.') : null,
    p.units.map((u) => h('div', { class: 'preview-unit', 'data-serial': u.serial },
      h('h4', null, `Unit ${u.serial}`),
      u.changes.length === 0
        ? h('div', { class: 'muted' }, 'Its entitlements stay the same.')
        : h('div', { class: 'table-wrap' }, h('table', { class: 'preview-changes stack' },
          h('thead', null, h('tr', null, h('th', null, 'Field'), h('th', null, 'Now'), h('th', null, 'After the correction'))),
          h('tbody', null, u.changes.map((ch) => h('tr', { 'data-field': ch.field },
            td('Field', null, h('code', { class: 'wrap' }, ch.field), FIELD_LABELS[ch.field] ? h('span', { class: 'sub' }, FIELD_LABELS[ch.field]) : null),
            td('Now', null, h('span', { class: 'wrap' }, fmtValue(ch.before))),
            td('After', null, h('span', { class: 'wrap' }, fmtValue(ch.after)))))))))),
    h('h4', null, 'Past decisions on these facts'),
    p.decisions.length === 0
      ? h('div', { class: 'muted' }, 'No past decision rests on these facts.')
      : h('div', { class: 'table-wrap' }, h('table', { id: 'preview-decisions', class: 'stack' },
        h('thead', null, h('tr', null, ['Decision', 'Recorded', 'Outcome', 'Code', 'Rule', 'Why'].map((t) => h('th', null, t)))),
        h('tbody', null, p.decisions.map((d) => h('tr', { class: d.outcome, 'data-event-id': d.eventId, 'data-outcome': d.outcome },
          td('Decision', null, d.command, h('span', { class: 'sub mono' }, `${d.type} ${shortId(d.eventId)}`)),
          td('Recorded', null, fmtInstant(d.recordedAt)),
          td('Outcome', null, badge(d.outcome)),
          td('Code', null, d.code ? h('code', null, d.code) : '—'),
          td('Rule', null, d.rule ? h('span', { title: RULE_TITLES[d.rule] ?? '' }, ruleText(d.rule)) : '—'),
          td('Why', null, d.detail ?? '')))))),
    h('h4', null, 'Conflicts it would raise (X2, for a person to settle)'),
    p.conflicts.length === 0
      ? h('div', { class: 'muted' }, 'None.')
      : p.conflicts.map((x) => h('div', { class: 'conflict-item' }, h('b', null, ruleText(x.rule)), ' — ', x.detail)),
  );
}

function decisionsTable(items) {
  if (items.length === 0) return h('div', { class: 'empty' }, 'No decisions recorded for this serial.');
  return h('div', { class: 'table-wrap scroll' }, h('table', { id: 'audit-decisions', class: 'wide' },
    h('thead', null, h('tr', null, ['Recorded', 'Command', 'Outcome', 'Code', 'Rule', 'Detail', 'Actor'].map((t) => h('th', null, t)))),
    h('tbody', null, items.map((d) => h('tr', null,
      h('td', null, fmtInstant(d.recordedAt)),
      h('td', null, d.command ?? d.type ?? '—'),
      h('td', null, badge(d.outcome ?? '—')),
      h('td', null, d.code ? h('code', null, d.code) : '—'),
      h('td', null, d.rule ? h('span', { title: RULE_TITLES[d.rule] ?? '' }, d.rule) : '—'),
      h('td', null, d.detail ?? ''),
      h('td', null, d.actor ?? '—'))))));
}

// ---------------------------------------------------------------- wiring

function init() {
  $('#signin').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = $('#signin-token').value.trim();
    if (!token) return;
    banner(null);
    void signIn(token);
  });
  $('#center-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const center = $('#session-center').value.trim();
    if (center && !IDENTIFIER.test(center)) {
      banner('A center id is 1-100 letters, digits, dots, colons, underscores or dashes.');
      return;
    }
    banner(null);
    setCenter(center);
    if (center) void loadCenterName();
  });
  $('#signout').addEventListener('click', () => signOut('Signed out.'));
  for (const button of $$('.tabs button')) button.addEventListener('click', () => selectTab(button.dataset.tab));
  window.addEventListener('hashchange', () => {
    const name = location.hash.slice(1);
    if (state.token && state.me && TABS.includes(name) && name !== state.tab) selectTab(name);
  });

  $('#lookup-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const serial = $('#lookup-serial').value.trim();
    if (serial) void lookup(serial, $('#lookup-at').value);
  });

  const filter = $('#claims-filter');
  for (const [value, label] of STATUSES) {
    filter.append(h('button', { type: 'button', class: 'chip', 'data-status': value, 'aria-pressed': String(value === state.claimsStatus), on: { click: () => {
      state.claimsStatus = value;
      for (const chip of $$('.chip', filter)) chip.setAttribute('aria-pressed', String(chip.dataset.status === value));
      void loadClaims();
    } } }, label));
  }
  $('#claims-refresh').addEventListener('click', () => void loadClaims());
  const openForm = $('#open-claim');
  $('select[name=cause]', openForm).append(...CAUSES.map((c) => h('option', { value: c }, c)));
  $('select[name=kind]', openForm).addEventListener('change', (event) => {
    if (event.target.value === 'flyaway') openForm.elements.cause.value = 'flyaway';
  });
  $('#open-claim-toggle').addEventListener('click', () => {
    if (openForm.hidden) openClaimForm('');
    else openForm.hidden = true;
  });
  $('[data-close]', openForm).addEventListener('click', () => { openForm.hidden = true; });
  openForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void openClaim(openForm);
  });

  $('#stats-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void loadStats();
  });
  for (const chip of $$('[data-preset]')) chip.addEventListener('click', () => preset(chip.dataset.preset));

  $('#audit-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void loadAudit();
  });
  const correctionForm = $('#correction-form');
  $('#correction-toggle').addEventListener('click', () => {
    if (correctionForm.hidden) openCorrection('');
    else correctionForm.hidden = true;
  });
  correctionForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void previewCorrection(correctionForm);
  });
  // a change after the preview needs a new preview before it can be recorded
  correctionForm.addEventListener('input', () => {
    if (correction.previewed) resetPreview();
  });
  $('#correction-record').addEventListener('click', () => void recordCorrection(correctionForm));
  $('[data-close]', correctionForm).addEventListener('click', () => { correctionForm.hidden = true; });

  document.body.dataset.ready = 'true';
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) void signIn(token, { restoring: true });
}

init();
