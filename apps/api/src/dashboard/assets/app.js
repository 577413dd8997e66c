// CareLedger service-center dashboard: one vanilla ES module, no dependencies, no outside network.
// Every data call goes to the v1 API (API.md) with the agent's token as a Bearer credential; the
// token lives in sessionStorage only (this tab), never in localStorage or cookies.

const TOKEN_KEY = 'careledger.dashboard.token';
const CENTER_KEY = 'careledger.dashboard.center';
const TABS = ['lookup', 'claims', 'stats', 'audit'];
const IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;
const LOCAL_INSTANT = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

// Refusal codes and their rules (libs/domain/src/codes.ts RULE_OF; RULES.md).
const RULE_OF = {
  UnknownModel: 'C1', UnknownPlan: 'P1', MaxTermExceeded: 'P2', RenewalMustBe1Year: 'P2', AlreadyBound: 'P3',
  PurchaseWindowClosed: 'P4', VerificationExpired: 'P4', RegionMismatch: 'P5', ModelMismatch: 'P5',
  AlreadyCoveredByInheritedPlan: 'P7', NoPlanToRenew: 'N1', RenewalWindowClosed: 'N2', PlanExpired: 'N3',
  NotAllowedWith2YearPlan: 'N3', ProductDiscontinued: 'N3', NoReplacementsRemaining: 'R1', FlyawayQuotaExhausted: 'R1',
  IncidentBeforeCoverage: 'R2', OutsideValidity: 'R2', DeviceNotCovered: 'R3', FlyawayNotSupported: 'R4',
  FlyawayBindingMissing: 'R4', FlightRecordsMissing: 'R4', Excluded: 'R5', OutOfServiceRegion: 'R6', PaymentMismatch: 'R7',
  ExpressNotAvailable: 'R9', NoDiscountedRepairsRemaining: 'C9', NoFactoryMaintenanceRemaining: 'C9', NotUnderWarranty: 'R8',
  OccurredInFuture: 'T4', NotCorrectable: 'X1',
};

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
  center: '',
  tab: 'lookup',
  claimsStatus: '',
  claims: [],
  claimsCursor: null,
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

function ruleOf(code, field) {
  if (field === 'carePlus' && code === 'NoReplacementsRemaining') return 'N3';
  return RULE_OF[code] ?? null;
}

function newKey() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

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

/** A problem+json answer, with its code and (for business refusals) the rule that refused. */
function problemView(p, context) {
  const rule = p.rule ?? null;
  return h(
    'div',
    { class: 'problem', role: 'alert', 'data-code': p.code, 'data-rule': rule ?? '', 'data-status': p.status },
    h('div', null,
      context ? `${context}: ` : '',
      h('span', { class: 'code' }, `${p.status ? `${p.status} ` : ''}${p.code}`),
      rule ? h('span', { class: 'rule' }, ` · rule ${rule}`) : null,
      p.detail ? ` — ${p.detail}` : ''),
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

function signIn(token, center) {
  sessionStorage.setItem(TOKEN_KEY, token);
  sessionStorage.setItem(CENTER_KEY, center);
  state.token = token;
  state.center = center;
  showApp();
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  state.claims = [];
  state.claimsCursor = null;
  for (const id of ['#lookup-result', '#claims-list', '#claims-message', '#stats-result', '#audit-result']) $(id).replaceChildren();
  $('#signin-token').value = '';
  $('#signin-center').value = sessionStorage.getItem(CENTER_KEY) ?? '';
  $('#signin').hidden = false;
  $('#session').hidden = true;
  $('#app').hidden = true;
  $('#signed-out').hidden = false;
  banner(message ?? null);
}

function showApp() {
  $('#signin').hidden = true;
  $('#session').hidden = false;
  $('#session-center').value = state.center;
  $('#signed-out').hidden = true;
  $('#app').hidden = false;
  const fromHash = location.hash.slice(1);
  selectTab(TABS.includes(fromHash) ? fromHash : state.tab);
}

/** Signing in asks for the center's figures once: a bad token (401) signs out, a 403 is said at once. */
async function checkToken(center) {
  const r = await api('GET', `/v1/service-centers/${encodeURIComponent(center)}/dashboard`);
  if (!r.ok && r.status !== 401 && state.token) banner(`${r.problem.status} ${r.problem.code}: ${r.problem.detail ?? ''} Unit lookups may still work.`);
}

function setCenter(center) {
  state.center = center;
  sessionStorage.setItem(CENTER_KEY, center);
  $('#session-center').value = center;
  state.claims = [];
  state.claimsCursor = null;
  if (state.tab === 'claims') void loadClaims();
  if (state.tab === 'stats') void loadStats();
}

function centerMissing(target) {
  if (state.center) return false;
  target.replaceChildren(h('div', { class: 'empty' }, 'Enter a service-center id at the top (Center, then Switch).'));
  return true;
}

// ---------------------------------------------------------------- tabs

function selectTab(name) {
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
  const r = await api('GET', `/v1/devices/${encodeURIComponent(serial)}/entitlements`, {
    query: { at: normalizeAt(at), explain: 'true', minPosition: state.lastPosition },
  });
  if (!state.token) return;
  out.replaceChildren(r.ok ? entitlementCard(r.data) : problemView(r.problem, `Lookup of ${serial}`));
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

function entitlementCard(v) {
  const repl = v.replacement ?? {};
  const explanation = Object.fromEntries((v.explanation ?? []).map((e) => [e.field, e]));
  const rulesFor = (field) => explanation[field]?.rules ?? [];
  return h('div', { class: 'card', 'data-serial': v.serial, id: 'entitlement-card' },
    h('div', { class: 'unit-head' },
      h('span', { class: 'serial mono' }, v.serial),
      badge(v.coverage, { 'data-field': 'coverage', title: `coverage (rules ${rulesFor('coverage').join(', ') || '—'})` }),
      h('span', null, [v.model, v.region].filter(Boolean).join(' · ') || 'unknown model'),
      v.policyVersion ? h('span', { class: 'muted' }, `policy ${v.policyVersion}`) : null,
      v.planId ? h('span', { class: 'muted' }, 'plan ', h('code', null, v.planId)) : null,
      h('span', { class: 'muted' }, `as of ${fmtInstant(v.at)} · checkpoint ${v.checkpoint ?? '—'}`),
    ),
    unitsView(v),
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
    timelineSvg(v),
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
        h('div', { style: 'height:8px' }),
        eligibilityView('Care Refresh+', v.carePlus, 'carePlus', rulesFor('carePlus')),
        v.conflicts?.length
          ? [h('h3', null, 'Conflicts to settle'), v.conflicts.map((c) => h('div', { class: 'problem' }, h('span', { class: 'code' }, `rule ${c.rule}`), ` — ${c.detail} `, h('code', null, (c.eventIds ?? []).join(', '))))]
          : null,
        h('h3', null, 'Replacement window'),
        h('div', null, fmtWindow(repl.window)),
      ),
    ),
    v.explanation?.length
      ? h('details', { class: 'explain' },
          h('summary', null, 'Why: the rules and events behind each field'),
          h('table', null,
            h('thead', null, h('tr', null, h('th', null, 'Field'), h('th', null, 'Rules'), h('th', null, 'Events'))),
            h('tbody', null, v.explanation.map((e) => h('tr', null, h('td', null, h('code', null, e.field)), h('td', null, e.rules.join(', ')), h('td', { class: 'mono' }, (e.eventIds ?? []).join(' ')))))))
      : null,
    h('div', { class: 'actions', style: 'margin-top:10px' },
      h('button', { type: 'button', class: 'secondary', on: { click: () => openAudit(v.serial) } }, 'History and disputes for this unit'),
    ),
  );
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
    rules.length ? h('div', { class: 'muted' }, `Rules considered: ${rules.join(', ')}`) : null,
  );
}

// ---------------------------------------------------------------- windows timeline (inline SVG)

const dayOf = (date) => {
  const [y, m, d] = date.slice(0, 10).split('-').map(Number);
  return Date.UTC(y, m - 1, d) / 86_400_000;
};

function timelineSvg(v) {
  const lanes = [];
  const chain = (v.chain ?? []).map((t) => ({ ...t, label: t.kind, color: 'var(--plan)' }));
  if (chain.length) lanes.push({ name: 'Plan chain', segments: chain });
  if (v.replacement?.window) lanes.push({ name: 'Replacement', segments: [{ ...v.replacement.window, label: `replacement · ${v.replacement.remaining} left`, color: 'var(--repl)' }] });
  if (v.warranty?.official) lanes.push({ name: 'Warranty', segments: [{ ...v.warranty.official, label: 'official warranty', color: 'var(--warr)' }] });
  const extensions = (v.warranty?.extensions ?? []).filter((e) => e.kind !== 'safe-use-reward');
  if (extensions.length) lanes.push({ name: 'Extensions', segments: extensions.map((e) => ({ ...e, label: `${e.kind}${e.status === 'pending' ? ' (pending)' : ''}`, color: 'var(--ext)', pending: e.status === 'pending' })) });
  if (v.safeUseReward?.window) {
    const st = v.safeUseReward.status;
    lanes.push({ name: 'Safe-use reward', segments: [{ ...v.safeUseReward.window, label: `reward (${st})`, color: 'var(--reward)', pending: st === 'pending' }] });
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

  const W = 960, left = 130, right = 16, top = 26, laneH = 30, barH = 20;
  const H = top + lanes.length * laneH + 8;
  const x = (day) => left + ((day - min) / (max - min)) * (W - left - right);
  const svg = s('svg', { class: 'timeline', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `Coverage windows of ${v.serial}`, 'data-field': 'timeline' });

  // month ticks, thinned to at most ~12 labels
  const grid = s('g', { class: 'grid' });
  const axis = s('g', { class: 'axis' });
  const start = new Date(min * 86_400_000);
  const months = Math.max(1, Math.round((max - min) / 30.44));
  const step = [1, 2, 3, 6, 12, 24].find((k) => months / k <= 12) ?? 24;
  let cursor = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
  while (cursor.getTime() / 86_400_000 < max) {
    const day = cursor.getTime() / 86_400_000;
    if (cursor.getUTCMonth() % step === 0 || step === 1) {
      const px = x(day);
      grid.append(s('line', { x1: px, x2: px, y1: top - 4, y2: H - 4 }));
      axis.append(s('text', { x: px + 2, y: 14 }, `${cursor.getUTCFullYear()}-${pad(cursor.getUTCMonth() + 1)}`));
    }
    cursor = new Date(Date.UTC(cursor.getUTCFullYear(), cursor.getUTCMonth() + 1, 1));
  }
  svg.append(grid, axis);

  lanes.forEach((lane, i) => {
    const y = top + i * laneH;
    svg.append(s('text', { class: 'lane-label', x: 4, y: y + barH / 2 + 4 }, lane.name));
    for (const seg of lane.segments) {
      const x1 = x(dayOf(seg.from));
      const width = Math.max(2, x(dayOf(seg.until)) - x1);
      const g = s('g', { class: seg.pending ? 'segment pending' : 'segment' },
        s('title', null, `${seg.label}: ${seg.from} → ${seg.until} (until exclusive)`),
        s('rect', { x: x1, y, width, height: barH, rx: 4, fill: seg.color, stroke: '#fff', 'stroke-width': 1 }));
      const text = width > 150 ? `${seg.label} · ${seg.from} → ${seg.until}` : seg.label;
      if (width > text.length * 6.2 + 8) g.append(s('text', { class: 'bar-label', x: x1 + 6, y: y + barH / 2 + 4 }, text));
      svg.append(g);
    }
  });

  if (atDay !== null) {
    const px = x(atDay);
    svg.append(s('line', { class: 'marker', x1: px, x2: px, y1: top - 6, y2: H - 2 }));
    svg.append(s('text', { class: 'marker-label', x: Math.min(px + 4, W - 60), y: top - 8 + 0 }, 'as of'));
  }

  const legend = h('div', { class: 'legend' },
    [['var(--plan)', 'plan terms'], ['var(--repl)', 'replacement window'], ['var(--warr)', 'official warranty'], ['var(--ext)', 'warranty extensions'], ['var(--reward)', 'safe-use reward']]
      .map(([color, label]) => h('span', null, h('i', { style: `background:${color}` }), label)),
    h('span', null, 'faded: pending · dashed red line: the "as of" time · windows are half-open [from, until)'));
  return h('div', null, svg, legend);
}

// ---------------------------------------------------------------- claim queue

async function loadClaims({ more = false } = {}) {
  const list = $('#claims-list');
  if (centerMissing(list)) return;
  if (!more) list.replaceChildren(loading());
  const r = await api('GET', `/v1/service-centers/${encodeURIComponent(state.center)}/claims`, {
    query: { status: state.claimsStatus || undefined, cursor: more ? state.claimsCursor : undefined, limit: 50, minPosition: state.lastPosition },
  });
  if (!state.token) return;
  if (!r.ok) {
    list.replaceChildren(problemView(r.problem, `Claims of ${state.center}`));
    return;
  }
  state.claims = more ? state.claims.concat(r.data.items) : r.data.items;
  state.claimsCursor = r.data.nextCursor;
  renderClaims();
}

function renderClaims() {
  const list = $('#claims-list');
  if (state.claims.length === 0) {
    const label = STATUSES.find(([v]) => v === state.claimsStatus)?.[1] ?? '';
    list.replaceChildren(h('div', { class: 'empty' }, `No ${state.claimsStatus ? `${label.toLowerCase()} ` : ''}claims at ${state.center}.`));
    return;
  }
  const rows = state.claims.flatMap((c) => [
    h('tr', { 'data-claim-id': c.claimId, 'data-claim-ref': c.claimRef, 'data-status': c.status },
      h('td', null, h('b', null, c.claimRef), h('div', { class: 'muted mono' }, c.claimId.slice(0, 8))),
      h('td', null, serialLink(c.serial)),
      h('td', null, c.kind, c.express ? ' · express' : '', h('div', { class: 'muted' }, c.cause)),
      h('td', null, badge(c.status, { 'data-field': 'status' })),
      h('td', null, fmtInstant(c.openedAt), h('div', { class: 'muted' }, `incident ${fmtInstant(c.incidentAt)}`)),
      h('td', null, fmtMoney(c.fee), c.ordinal ? h('div', { class: 'muted' }, `replacement #${c.ordinal}`) : null),
      h('td', null, c.paid ? fmtMoney(c.paid) : '—'),
      h('td', null, c.replacementSerial ? serialLink(c.replacementSerial) : '—'),
      h('td', null, h('div', { class: 'actions' }, (ACTIONS_BY_STATUS[c.status] ?? []).map((name) =>
        h('button', { type: 'button', class: ACTIONS[name].danger ? 'danger' : 'secondary', 'data-action': name, on: { click: (event) => toggleAction(event.currentTarget, c, name) } }, ACTIONS[name].label)))),
    ),
  ]);
  list.replaceChildren(h('div', null,
    h('div', { class: 'table-wrap' },
      h('table', { id: 'claims-table' },
        h('thead', null, h('tr', null, ['Claim', 'Serial', 'Kind', 'Status', 'Opened', 'Fee', 'Paid', 'Replacement', 'Actions'].map((t) => h('th', null, t)))),
        h('tbody', null, rows))),
    state.claimsCursor ? h('div', { class: 'actions', style: 'margin-top:8px' }, h('button', { type: 'button', class: 'secondary', on: { click: () => loadClaims({ more: true }) } }, 'Load more')) : null,
  ));
}

function toggleAction(button, claim, name) {
  const row = button.closest('tr');
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
  const fields = [h('label', null, 'At (instant with offset)', h('input', { name: 'at', value: isoNow(), required: true, size: 32, spellcheck: 'false' }))];
  if (name === 'deny' || name === 'cancel') fields.push(h('label', null, 'Reason', h('input', { name: 'reason', required: true, size: 40 })));
  if (name === 'pay') {
    fields.push(h('label', null, 'Amount', h('input', { name: 'amount', value: claim.fee?.amount ?? '', required: true, size: 10 })));
    fields.push(h('label', null, 'Currency', h('input', { name: 'currency', value: claim.fee?.currency ?? '', required: true, size: 5 })));
  }
  if (name === 'fulfil') fields.push(h('label', null, 'Replacement serial', h('input', { name: 'replacementSerial', required: true, size: 24, spellcheck: 'false' })));
  const result = h('div', { class: 'result' });
  const form = h('form', { class: 'toolbar', autocomplete: 'off', 'data-action': name },
    fields,
    h('button', { type: 'submit', class: action.danger ? 'danger' : '' }, `Confirm: ${action.label.toLowerCase()}`),
    h('button', { type: 'button', class: 'secondary', on: { click: () => form.closest('tr')?.remove() } }, 'Close'),
  );
  const wrap = h('div', null, h('div', { class: 'muted' }, `${action.label} claim ${claim.claimRef} (${claim.serial})`), form, result);
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
    await loadClaims();
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
  return h('div', { class: 'success', role: 'status', 'data-action': name, 'data-claim-ref': claim.claimRef },
    text, ' ',
    name === 'fulfil' && data.replacementSerial ? serialLink(data.replacementSerial) : null,
    h('span', { class: 'muted' }, ` · position ${data.position ?? '—'}`),
  );
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
  result.replaceChildren(h('div', { class: 'success', role: 'status' }, `Claim ${body.claimRef} opened (${r.data.status}).`));
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
  const r = await api('GET', `/v1/service-centers/${encodeURIComponent(state.center)}/dashboard`, { query: { from, to, minPosition: state.lastPosition } });
  if (!state.token) return;
  if (!r.ok) {
    out.replaceChildren(problemView(r.problem, `Statistics of ${state.center}`));
    return;
  }
  const d = r.data;
  const c = d.claims ?? {};
  const period = d.from || d.to ? `${d.from ?? 'the beginning'} to ${d.to ?? 'today'} (dates the claims were opened)` : 'all time';
  out.replaceChildren(
    h('div', { class: 'card', id: 'stats-card' },
      h('h2', null, d.name ? `${d.name} (${d.centerId ?? state.center})` : (d.centerId ?? state.center), d.region ? h('span', { class: 'muted' }, ` · region ${d.region}`) : null),
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
      barChart([
        ['Open', c.open ?? 0, '#d9a400'],
        ['Approved', c.approved ?? 0, '#e08a2b'],
        ['Awaiting payment', c.awaitingPayment ?? 0, '#c26d1a'],
        ['Fulfilled', c.fulfilled ?? 0, '#2fa37a'],
        ['Denied', c.denied ?? 0, '#c2453b'],
        ['Cancelled', c.cancelled ?? 0, '#8a94a6'],
      ]),
    ),
  );
}

function barChart(rows) {
  const W = 620, left = 130, right = 50, barH = 18, gap = 8, top = 4;
  const H = top + rows.length * (barH + gap);
  const max = Math.max(1, ...rows.map(([, n]) => n));
  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Claims by status', style: 'max-width:640px', id: 'stats-chart' });
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
  const decisions = await decisionsFor(serial, current.ok ? current.data.planId : null);
  if (!state.token) return;
  const knownMs = knownAt ? Date.parse(knownAt) : null;
  out.replaceChildren(
    h('h3', null, `Entitlements of ${serial} as of ${at}`),
    compareView(current, then, knownAt),
    h('h3', null, 'Timeline: the entitlement view after each event, as the ledger knew it then'),
    timeline.ok ? timelineTable(timeline.data.entries ?? [], knownMs) : problemView(timeline.problem, 'Timeline'),
    h('h3', null, 'History: every event that touched the unit or its chain'),
    history.ok ? historyTable(history.data.events ?? [], knownMs) : problemView(history.problem, 'History'),
    h('h3', null, 'Decision log of this serial and its plan (accepted and refused commands)'),
    decisions.ok ? decisionsTable(decisions.data.items ?? []) : problemView(decisions.problem, 'Decision log (auditor or admin)'),
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
  const table = h('table', { id: 'audit-diff' },
    h('thead', null, h('tr', null, h('th', null, 'Field'), h('th', null, 'As known now'), h('th', null, `As known at ${knownAt}`))),
    h('tbody', null, keys.map((k) => h('tr', { class: a[k] !== b[k] ? 'diff' : 'same', 'data-key': k }, h('td', null, h('code', null, k)), h('td', null, a[k] ?? '—'), h('td', null, b[k] ?? '—')))));
  const apply = () => { for (const tr of $$('tr.same', table)) tr.hidden = onlyDiff.checked; };
  onlyDiff.addEventListener('change', apply);
  apply();
  return h('div', null, columns,
    h('div', { class: 'card' },
      h('div', { class: 'row' }, h('b', null, differing.length ? `${differing.length} field(s) differ` : 'The two views agree.'), h('label', { class: 'check' }, onlyDiff, 'only differences')),
      h('div', { class: 'table-wrap' }, table)));
}

function summary(v) {
  const repl = v.replacement ?? {};
  return h('div', { 'data-serial': v.serial },
    h('div', { class: 'unit-head' }, badge(v.coverage, { 'data-field': 'coverage' }), h('span', { class: 'muted' }, `as of ${fmtInstant(v.at)} · known at ${fmtInstant(v.knownAt)}`)),
    h('table', null, h('tbody', null,
      [
        ['Plan', v.planId ? `${v.planId} (${v.policyVersion})` : '—'],
        ['Chain', (v.chain ?? []).map((t) => `${t.kind} ${t.from}→${t.until}`).join(', ') || '—'],
        ['Units', [...(v.inheritedFrom ?? []), v.serial].join(' → ') + (v.transferredTo ? ` → ${v.transferredTo}` : '')],
        ['Replacements', `${repl.remaining ?? 0} left, ${repl.used ?? 0} used, ${repl.flyawayRemaining ?? 0} flyaway left`],
        ['Next fees', `damage ${fmtMoney(repl.nextFee?.damage)} · flyaway ${fmtMoney(repl.nextFee?.flyaway)}`],
        ['Warranty until', v.warranty?.coveredUntil ?? '—'],
        ['Renewal', v.renewal?.eligible ? `eligible until ${fmtInstant(v.renewal.deadline)}` : `refused: ${v.renewal?.blockedBy ?? '—'}${v.renewal?.blockedBy ? ` (rule ${ruleOf(v.renewal.blockedBy, 'renewal')})` : ''}`],
        ['Care Refresh+', v.carePlus?.eligible ? 'eligible' : `refused: ${v.carePlus?.blockedBy ?? '—'}${v.carePlus?.blockedBy ? ` (rule ${ruleOf(v.carePlus.blockedBy, 'carePlus')})` : ''}`],
      ].map(([k, val]) => h('tr', null, h('th', null, k), h('td', null, val))))),
    timelineSvg(v),
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
  return h('div', { class: 'table-wrap' }, h('table', { id: 'audit-timeline' },
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
  return h('div', { class: 'table-wrap' }, h('table', { id: 'audit-history' },
    h('thead', null, h('tr', null, ['Pos', 'Event', 'Stream', 'Occurred', 'Recorded', 'Actor', 'Data'].map((t) => h('th', null, t)))),
    h('tbody', null, events.map((e) => h('tr', { 'data-position': e.position },
      h('td', { class: 'num' }, e.position),
      h('td', null, e.type, h('div', { class: 'muted mono' }, e.eventId)),
      h('td', { class: 'mono' }, e.streamId),
      h('td', null, fmtInstant(e.occurredAt)),
      h('td', null, fmtInstant(e.recordedAt), laterNote(e.recordedAt, knownMs)),
      h('td', null, e.actor ?? '—'),
      h('td', null, h('details', null, h('summary', null, 'data'), h('pre', null, JSON.stringify(e.data, null, 2)))))))));
}

function decisionsTable(items) {
  if (items.length === 0) return h('div', { class: 'empty' }, 'No decisions recorded for this serial.');
  return h('div', { class: 'table-wrap' }, h('table', { id: 'audit-decisions' },
    h('thead', null, h('tr', null, ['Recorded', 'Command', 'Outcome', 'Code', 'Rule', 'Detail', 'Actor'].map((t) => h('th', null, t)))),
    h('tbody', null, items.map((d) => h('tr', null,
      h('td', null, fmtInstant(d.recordedAt)),
      h('td', null, d.command ?? d.type ?? '—'),
      h('td', null, badge(d.outcome ?? '—')),
      h('td', null, d.code ? h('code', null, d.code) : '—'),
      h('td', null, d.rule ?? '—'),
      h('td', null, d.detail ?? ''),
      h('td', null, d.actor ?? '—'))))));
}

// ---------------------------------------------------------------- wiring

function init() {
  $('#signin').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = $('#signin-token').value.trim();
    const center = $('#signin-center').value.trim();
    if (!token) return;
    if (center && !IDENTIFIER.test(center)) {
      banner('A center id is 1-100 letters, digits, dots, colons, underscores or dashes.');
      return;
    }
    banner('Signed in. The token is kept for this tab only.', 'info');
    signIn(token, center);
    if (center) void checkToken(center);
  });
  $('#session').addEventListener('submit', (event) => {
    event.preventDefault();
    const center = $('#session-center').value.trim();
    if (center && !IDENTIFIER.test(center)) {
      banner('A center id is 1-100 letters, digits, dots, colons, underscores or dashes.');
      return;
    }
    banner(null);
    setCenter(center);
  });
  $('#signout').addEventListener('click', () => signOut('Signed out.'));
  for (const button of $$('.tabs button')) button.addEventListener('click', () => selectTab(button.dataset.tab));
  window.addEventListener('hashchange', () => {
    const name = location.hash.slice(1);
    if (state.token && TABS.includes(name) && name !== state.tab) selectTab(name);
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
  $('#open-claim-toggle').addEventListener('click', () => {
    openForm.hidden = !openForm.hidden;
    if (!openForm.hidden) {
      openForm.elements.openedAt.value = isoNow();
      $('.result', openForm).replaceChildren();
    }
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

  const token = sessionStorage.getItem(TOKEN_KEY);
  state.center = sessionStorage.getItem(CENTER_KEY) ?? '';
  $('#signin-center').value = state.center;
  if (token) {
    state.token = token;
    showApp();
  }
  document.body.dataset.ready = 'true';
}

init();
