/**
 * The printable entitlement statement (Accept: text/html): one self-contained page a dispute
 * handler hands to a customer or an arbiter. The unit and its chain, each entitlement in sentences
 * with rule titles and the facts behind it (event type, business time, recorded time), the
 * timeline (an inline SVG and a table), and the integrity data (positions, hashes, the signed
 * checkpoint, the key, the attestation, how to verify). No outside resources: no script, no
 * external font or image; one inline stylesheet, allowed by its hash in the page's own CSP.
 */
import { createHash } from 'node:crypto';
import type { Statement } from '@careledger/runtime';

const esc = (value: unknown): string =>
  String(value ?? '—').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const TERM_WORDS: Record<string, string> = { '1y': '1-Year plan', '2y': '2-Year plan', renewal: 'Renewal (1 year)', 'care-plus': 'Care Refresh+' };
const VIA_WORDS: Record<string, string> = { purchase: 'bought with the plan', binding: 'bound to a card plan', replacement: 'issued as a replacement' };

const CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #111; margin: 0 auto; max-width: 60rem; padding: 1.5rem; line-height: 1.4; font-size: 11pt; }
h1 { font-size: 1.6rem; margin: 0 0 .2rem; }
h2 { font-size: 1.15rem; margin: 1.6rem 0 .5rem; border-bottom: 2px solid #222; padding-bottom: .15rem; }
h3 { font-size: 1rem; margin: 0 0 .25rem; }
p { margin: .3rem 0; }
.sub { color: #444; margin: 0 0 .8rem; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: 0; }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; }
.coverage { display: inline-block; padding: .1rem .55rem; border: 1.5px solid #111; border-radius: .3rem; font-weight: 700; text-transform: uppercase; letter-spacing: .03em; }
table { border-collapse: collapse; width: 100%; margin: .35rem 0 .6rem; font-size: .9em; }
th, td { border: 1px solid #999; padding: .2rem .4rem; text-align: left; vertical-align: top; }
th { background: #eee; }
tr { break-inside: avoid; page-break-inside: avoid; }
article { border: 1px solid #bbb; border-radius: .3rem; padding: .5rem .7rem; margin: .5rem 0; break-inside: avoid; page-break-inside: avoid; }
.rules { font-size: .9em; }
.rules span { display: inline-block; margin-right: .8rem; }
.rule-id { font-weight: 700; }
.mono, code { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace; font-size: .85em; }
.hash { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace; font-size: .75em; word-break: break-all; }
.conflict { border: 2px solid #b00; background: #fff4f4; }
.muted { color: #555; }
td.t { white-space: nowrap; font-size: .8em; }
ol.steps li { margin: .2rem 0; }
pre.key { white-space: pre-wrap; word-break: break-all; font-size: .75em; border: 1px solid #bbb; padding: .4rem; margin: .3rem 0; }
svg.timeline { width: 100%; height: auto; margin: .3rem 0 .6rem; }
svg.timeline text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; font-size: 11px; fill: #111; }
svg.timeline .axis text { font-size: 10px; fill: #444; }
svg.timeline .grid { stroke: #ccc; stroke-width: 1; }
svg.timeline .term { fill: #cfe0f5; stroke: #245; }
svg.timeline .warranty { fill: #d9efd9; stroke: #274; }
svg.timeline .pending { fill: #fff; stroke: #274; stroke-dasharray: 4 3; }
svg.timeline .event { fill: #333; }
svg.timeline .at { stroke: #b00; stroke-width: 2; }
svg.timeline .at-label { fill: #b00; font-weight: 700; }
footer { margin-top: 2rem; font-size: .85em; color: #444; border-top: 1px solid #999; padding-top: .4rem; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
`;

const CSP_HASH = createHash('sha256').update(CSS, 'utf8').digest('base64');
/** Only what the page uses: its one inline stylesheet (by hash); no script, image, font, frame or connection. */
export const STATEMENT_CSP = `default-src 'none'; style-src 'sha256-${CSP_HASH}'; img-src 'none'; font-src 'none'; script-src 'none'; connect-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

export function statementPage(s: Statement): { html: string; csp: string } {
  const v = s.view;
  const i = s.integrity;
  const eventType = new Map(s.events.map((e) => [e.eventId, e.type]));
  const parts: string[] = [];
  parts.push(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Entitlement statement · ${esc(s.serial)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>Entitlement statement</h1>
<p class="sub">Unit <b>${esc(s.serial)}</b>${v.model ? ` · ${esc(v.model)}` : ''}${v.region ? ` · sold in ${esc(v.region)}` : ''}${v.planId ? ` · plan ${esc(v.planId)}` : ''}</p>
<dl class="meta">
<dt>As of (business time)</dt><dd>${esc(s.at)}</dd>
<dt>As known by the ledger at</dt><dd>${esc(s.knownAt)}</dd>
<dt>Issued at</dt><dd>${esc(s.issuedAt)}</dd>
<dt>Policy version</dt><dd>${esc(v.policyVersion)}</dd>
<dt>Catalogue</dt><dd>${esc(s.catalogue)}</dd>
<dt>Statement digest</dt><dd class="hash">${esc(s.attestation.digest)}</dd>
</dl>
</header>`);

  // summary
  const coverageLine = s.explanations.find((l) => l.field === 'coverage');
  parts.push(`<section id="summary"><h2>Summary</h2>
<p>Coverage: <span class="coverage">${esc(v.coverage)}</span></p>
${coverageLine ? `<p>${esc(coverageLine.text)}</p>` : ''}
<p>Replacements left in the term in force: <b>${esc(v.replacement.remaining)}</b> (${esc(v.replacement.used)} used) · warranty covered until <b>${esc(v.warranty.coveredUntil)}</b> · renewal: ${v.renewal.eligible ? `possible until ${esc(v.renewal.deadline)}` : `not possible (${esc(v.renewal.blockedBy)})`}</p>
${v.conflicts.length > 0 ? `<p><b>${v.conflicts.length} conflict(s) for a person to settle: see below.</b></p>` : ''}
</section>`);

  // the unit and its chain
  parts.push(`<section id="chain"><h2>The unit and its plan chain</h2>`);
  if (s.units.length > 0) {
    parts.push(`<table><thead><tr><th>Unit</th><th>How it joined the plan</th><th>Since (business time)</th><th>Now</th></tr></thead><tbody>
${s.units
  .map((u) => {
    const now = u.serial === s.serial ? 'this unit' : v.inheritedFrom.includes(u.serial) ? 'replaced (earlier unit)' : 'later unit';
    return `<tr><td><b>${esc(u.serial)}</b></td><td>${esc(VIA_WORDS[u.via] ?? u.via)}</td><td>${esc(u.since)}</td><td>${esc(now)}</td></tr>`;
  })
  .join('\n')}
</tbody></table>`);
  } else {
    parts.push('<p>No plan chain holds this unit.</p>');
  }
  if (v.chain.length > 0) {
    parts.push(`<table><thead><tr><th>Term</th><th>From (first day covered)</th><th>Until (first day not covered)</th></tr></thead><tbody>
${v.chain.map((t) => `<tr><td>${esc(TERM_WORDS[t.kind] ?? t.kind)}</td><td>${esc(t.from)}</td><td>${esc(t.until)}</td></tr>`).join('\n')}
</tbody></table>`);
  }
  parts.push('</section>');

  // entitlements explained
  parts.push('<section id="entitlements"><h2>Entitlements, explained</h2>');
  parts.push('<p class="muted">Each entitlement with the rules that decide it and the recorded facts behind it. Business time: when the fact happened in the world; recorded: when the ledger recorded it.</p>');
  for (const line of s.explanations) {
    parts.push(`<article${line.field === 'conflicts' ? ' class="conflict"' : ''} data-field="${esc(line.field)}">
<h3>${esc(line.label)}</h3>
<p>${esc(line.text)}</p>
<p class="rules">Rules: ${line.rules.map((r) => `<span><span class="rule-id">${esc(r.id)}</span> ${esc(r.title)}</span>`).join('')}</p>
${
  line.facts.length > 0
    ? `<table><thead><tr><th>Fact</th><th>Business time</th><th>Recorded</th><th>Position</th></tr></thead><tbody>
${line.facts
  .map((f) => `<tr><td>${esc(f.type)}${f.amendedBy.length ? ' <i>(amended)</i>' : ''}</td><td class="t">${esc(f.businessTime ?? 'applies from its recorded time')}</td><td class="t">${esc(f.recordedAt)}</td><td>${esc(f.position)}</td></tr>`)
  .join('\n')}
</tbody></table>`
    : ''
}
</article>`);
  }
  parts.push('</section>');

  // conflicts
  if (v.conflicts.length > 0) {
    parts.push(`<section id="conflicts"><h2>Conflicts for a person to settle</h2>
${v.conflicts
  .map((c) => `<article class="conflict"><p><b>Rule ${esc(c.rule)}</b>: ${esc(c.detail)}</p><p class="muted">Facts: ${c.eventIds.map((id) => `${esc(eventType.get(id) ?? 'event')} <span class="mono">${esc(id)}</span>`).join(', ')}</p></article>`)
  .join('\n')}
</section>`);
  }

  // timeline
  parts.push(`<section id="timeline"><h2>Timeline</h2>${timelineSvg(s)}
<table><thead><tr><th>Pos.</th><th>Event</th><th>Business time</th><th>Recorded</th><th>Coverage after</th><th>Replacements left / used</th><th>Warranty until</th><th>Renewal</th></tr></thead><tbody>
${s.timeline
  .map(
    (t) =>
      `<tr><td>${esc(t.position)}</td><td>${esc(t.type)}</td><td class="t">${esc(t.occurredAt)}</td><td class="t">${esc(t.recordedAt)}</td><td>${esc(t.coverage)}</td><td>${esc(t.replacementsRemaining)} / ${esc(t.replacementsUsed)}</td><td class="t">${esc(t.coveredUntil)}</td><td>${esc(t.renewal)}</td></tr>`,
  )
  .join('\n')}
</tbody></table>
<p class="muted">Each row shows the entitlements right after the event, at its business time, as the ledger knew them when it was recorded.</p>
</section>`);

  // integrity
  parts.push(`<section id="integrity"><h2>Integrity</h2>
<p>${esc(i.chainNote)}</p>
<dl class="meta">
<dt>Store</dt><dd>${esc(i.store)} (${esc(i.chain)} hash chain)</dd>
<dt>Checkpoint position</dt><dd>${esc(i.checkpoint.position)}</dd>
<dt>Checkpoint hash</dt><dd class="hash">${esc(i.checkpoint.hash)}</dd>
<dt>Checkpoint signed at</dt><dd>${esc(i.checkpoint.recordedAt)}</dd>
<dt>Checkpoint signature</dt><dd class="hash">${esc(i.checkpoint.signature)}</dd>
<dt>Key id</dt><dd class="mono">${esc(i.keyId)}</dd>
<dt>Attestation digest</dt><dd class="hash">${esc(s.attestation.digest)}</dd>
<dt>Attestation signature</dt><dd class="hash">${esc(s.attestation.signature)}</dd>
</dl>
<h3>The events this statement rests on</h3>
<table><thead><tr><th>Pos.</th><th>Event</th><th>Stream / revision</th><th>Recorded</th><th>Hash</th></tr></thead><tbody>
${s.events
  .map((e) => `<tr><td>${esc(e.position)}</td><td>${esc(e.type)}<br><span class="mono">${esc(e.eventId)}</span></td><td class="mono">${esc(e.streamId)} / ${esc(e.revision)}</td><td class="t">${esc(e.recordedAt)}</td><td class="hash">${esc(e.hash)}</td></tr>`)
  .join('\n')}
</tbody></table>
<h3>How to verify</h3>
<ol class="steps">${i.howToVerify.map((step) => `<li>${esc(step)}</li>`).join('')}</ol>
<p class="muted">The hash formula: <span class="mono">${esc(i.hashFormula)}</span></p>
<p>The node's public key (key id ${esc(i.keyId)}); compare it with the key the ledger's operator publishes:</p>
<pre class="key">${esc(i.publicKey.trim())}</pre>
<p class="muted">Ask for this statement as JSON (Accept: application/json) to check it: it carries every event's content as hashed.</p>
</section>
<footer>CareLedger entitlement statement ${esc(s.format)} · unit ${esc(s.serial)} · checkpoint ${esc(i.checkpoint.position)} · key ${esc(i.keyId)}</footer>
</body>
</html>`);
  return { html: parts.join('\n'), csp: STATEMENT_CSP };
}

const dayMs = (date: string) => Date.parse(`${date}T00:00:00Z`);

/** Terms, warranty periods and events on one date axis, with the statement's `at` marked. */
function timelineSvg(s: Statement): string {
  const v = s.view;
  type Bar = { lane: string; from: string; until: string; cls: string; label: string };
  const bars: Bar[] = [];
  for (const t of v.chain) bars.push({ lane: 'Plan', from: t.from, until: t.until, cls: 'term', label: TERM_WORDS[t.kind] ?? t.kind });
  if (v.warranty.official) bars.push({ lane: 'Warranty', from: v.warranty.official.from, until: v.warranty.official.until, cls: 'warranty', label: 'official' });
  for (const x of v.warranty.extensions) bars.push({ lane: 'Warranty', from: x.from, until: x.until, cls: x.status === 'pending' ? 'pending' : 'warranty', label: x.kind });
  const eventDays = s.timeline
    .map((t) => ({ day: t.occurredAt.slice(0, 10), type: t.type }))
    .filter((e) => /^\d{4}-\d{2}-\d{2}$/.test(e.day));
  const atDay = s.at.slice(0, 10);
  const days = [...bars.flatMap((b) => [b.from, b.until]), ...eventDays.map((e) => e.day), atDay].filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d));
  if (days.length === 0) return '';
  let min = Math.min(...days.map(dayMs));
  let max = Math.max(...days.map(dayMs));
  if (max - min < 30 * 86_400_000) {
    min -= 15 * 86_400_000;
    max += 15 * 86_400_000;
  }
  const width = 760;
  const left = 80;
  const right = 12;
  const x = (day: string) => left + ((dayMs(day) - min) / (max - min)) * (width - left - right);
  const lanes = ['Plan', 'Warranty', 'Events'];
  const laneY = (lane: string) => 14 + lanes.indexOf(lane) * 30;
  const height = 14 + lanes.length * 30 + 22;
  const out: string[] = [`<svg class="timeline" viewBox="0 0 ${width} ${height}" role="img" aria-label="Timeline of ${esc(s.serial)}" xmlns="http://www.w3.org/2000/svg">`];
  // the axis: years
  const firstYear = new Date(min).getUTCFullYear();
  const lastYear = new Date(max).getUTCFullYear();
  out.push('<g class="axis">');
  for (let y = firstYear; y <= lastYear + 1; y++) {
    const day = `${y}-01-01`;
    if (dayMs(day) < min || dayMs(day) > max) continue;
    out.push(`<line class="grid" x1="${x(day).toFixed(1)}" y1="8" x2="${x(day).toFixed(1)}" y2="${height - 16}"/><text x="${(x(day) + 2).toFixed(1)}" y="${height - 4}">${y}</text>`);
  }
  out.push('</g>');
  for (const lane of lanes) out.push(`<text x="4" y="${laneY(lane) + 14}">${esc(lane)}</text>`);
  for (const b of bars) {
    const x1 = x(b.from);
    const w = Math.max(2, x(b.until) - x1);
    out.push(`<rect class="${b.cls}" x="${x1.toFixed(1)}" y="${laneY(b.lane) + 2}" width="${w.toFixed(1)}" height="18" rx="3"><title>${esc(b.label)}: ${esc(b.from)} until ${esc(b.until)}</title></rect>`);
    if (w > 70) out.push(`<text x="${(x1 + 4).toFixed(1)}" y="${laneY(b.lane) + 15}">${esc(b.label)}</text>`);
  }
  for (const e of eventDays) {
    out.push(`<circle class="event" cx="${x(e.day).toFixed(1)}" cy="${laneY('Events') + 11}" r="3.5"><title>${esc(e.type)} ${esc(e.day)}</title></circle>`);
  }
  const ax = x(atDay);
  out.push(`<line class="at" x1="${ax.toFixed(1)}" y1="6" x2="${ax.toFixed(1)}" y2="${height - 16}"/>`);
  out.push(`<text class="at-label" x="${Math.min(ax + 3, width - 90).toFixed(1)}" y="${height - 4}">as of ${esc(atDay)}</text>`);
  out.push('</svg>');
  return out.join('');
}
