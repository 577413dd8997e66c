#!/usr/bin/env node
/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by file, and the
 * inclusive time of the heaviest functions. Usage: node bench/tools/cpuprofile-summary.js FILE [--top N] [--filter TEXT]
 */
'use strict';
const { readFileSync } = require('node:fs');
const { parseArgs } = require('node:util');

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string' }, filter: { type: 'string' } } });
if (positionals.length === 0) {
  console.error('usage: cpuprofile-summary.js FILE.cpuprofile [--top N] [--filter TEXT]');
  process.exit(2);
}
const top = Number(values.top ?? 25);
const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// sample durations: timeDeltas[i] is the time before sample i
const selfUs = new Map();
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i] ?? 0;
  total += dt;
  selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + dt);
}
const short = (url) => (url || '(native)').replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, 'nm/').replace(/^.*\/(dist|apps|libs)\//, '$1/');
const label = (n) => `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

const byFn = new Map();
const byFile = new Map();
const inclusive = new Map();
for (const [id, us] of selfUs) {
  const n = nodes.get(id);
  const key = label(n);
  byFn.set(key, (byFn.get(key) ?? 0) + us);
  const file = n.callFrame.url ? short(n.callFrame.url).replace(/:\d+$/, '') : `(${n.callFrame.functionName || 'native'})`;
  byFile.set(file, (byFile.get(file) ?? 0) + us);
  // inclusive: every distinct function on the stack once
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const k = label(nodes.get(cur));
    if (seen.has(k)) continue;
    seen.add(k);
    inclusive.set(k, (inclusive.get(k) ?? 0) + us);
  }
}
const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
const print = (title, map) => {
  console.log(`\n${title}`);
  [...map.entries()]
    .filter(([k]) => !values.filter || k.includes(values.filter))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .forEach(([k, us]) => console.log(`${pct(us)} ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`));
};
console.log(`total sampled ${(total / 1000).toFixed(0)} ms`);
print('self time by function', byFn);
print('self time by file', byFile);
print('inclusive time by function', inclusive);
