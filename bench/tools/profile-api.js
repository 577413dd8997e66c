#!/usr/bin/env node
/**
 * Profiles the API server under one kind of load, on a run directory kept by `npm run bench -- --keep`:
 *   node bench/tools/profile-api.js DIR read|dated|approve|renew [--seconds S] [--connections C] [--units N] [--dist]
 * read and dated (at=2024-06-01) go round the first N units of the manifest (default 2000), so that
 * all but the first pass over them is what a warm node does.
 * Starts the server under node --cpu-prof (a child), drives it with autocannon from here, stops it
 * and prints the profile's summary (bench/tools/cpuprofile-summary.js). approve/renew consume the
 * run's pool of open claims and renewable plans.
 */
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const { readdirSync, readFileSync, writeFileSync, mkdtempSync } = require('node:fs');
const { join, resolve } = require('node:path');
const { parseArgs } = require('node:util');
const autocannon = require('autocannon');

const ROOT = resolve(__dirname, '..', '..');
const { values, positionals } = parseArgs({ allowPositionals: true, options: { seconds: { type: 'string' }, connections: { type: 'string' }, units: { type: 'string' }, dist: { type: 'boolean' }, top: { type: 'string' } } });
const [dir, kind] = positionals;
if (!dir || !['read', 'dated', 'approve', 'renew'].includes(kind)) {
  console.error('usage: profile-api.js DIR read|dated|approve|renew [--seconds S] [--connections C] [--units N] [--dist]');
  process.exit(2);
}
const seconds = Number(values.seconds ?? 5);
const connections = Number(values.connections ?? 32);

async function main() {
  const manifest = JSON.parse(readFileSync(join(dir, 'seed.json'), 'utf8'));
  const centers = [...new Set(manifest.approvable.map((a) => a.centerId))];
  const tokens = [{ token: 'bench-auditor-token-0001', role: 'auditor' }, { token: 'bench-sales-token-00001', role: 'sales' }, ...centers.map((c, i) => ({ token: `bench-center-token-${String(i).padStart(4, '0')}`, role: `service-center:${c}` }))];
  writeFileSync(join(dir, 'tokens.json'), JSON.stringify(tokens));
  const profDir = mkdtempSync(join(dir, `prof-${kind}-`));
  const port = 40000 + Math.floor(Math.random() * 20000);
  const args = values.dist
    ? ['--cpu-prof', '--cpu-prof-dir', profDir, join(ROOT, 'dist/apps/api/apps/api/src/main.js')]
    : ['--cpu-prof', '--cpu-prof-dir', profDir, '-r', join(ROOT, 'libs/testing/register.js'), join(ROOT, 'apps/api/src/main.ts')];
  const child = spawn(process.execPath, args, {
    cwd: ROOT, stdio: 'inherit',
    env: { ...process.env, CARELEDGER_DB: join(dir, 'ledger.sqlite'), CARELEDGER_READ_DB: join(dir, 'ledger.read.sqlite'), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', CARELEDGER_TOKENS_FILE: join(dir, 'tokens.json'), CARELEDGER_SWEEP_INTERVAL_SECONDS: '0' },
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try { if ((await fetch(`${base}/health`)).ok) break; } catch { /* not yet */ }
    if (i > 300) throw new Error('server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  let requests;
  if (kind === 'read' || kind === 'dated') {
    let i = 0;
    const units = manifest.units.slice(0, Number(values.units ?? 2000));
    const query = kind === 'dated' ? '?at=2024-06-01' : '';
    requests = [{ method: 'GET', headers: { authorization: `Bearer ${tokens[0].token}` }, setupRequest: (req) => ({ ...req, path: `/v1/devices/${units[i++ % units.length]}/entitlements${query}` }) }];
  } else if (kind === 'approve') {
    let i = 0;
    const token = new Map(centers.map((c, k) => [c, tokens[k + 2].token]));
    requests = [{ method: 'POST', setupRequest: (req) => { const c = manifest.approvable[i++ % manifest.approvable.length]; return { ...req, path: `/v1/claims/${c.claimId}/approval`, headers: { 'content-type': 'application/json', authorization: `Bearer ${token.get(c.centerId)}` }, body: JSON.stringify({ at: c.at }) }; } }];
  } else {
    let i = 0;
    requests = [{ method: 'POST', setupRequest: (req) => { const p = manifest.renewable[i++ % manifest.renewable.length]; return { ...req, path: `/v1/plans/${p.planId}/renewals`, headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[1].token}` }, body: JSON.stringify({ purchasedAt: p.purchasedAt, orderId: p.orderId }) }; } }];
  }
  const amount = kind === 'read' || kind === 'dated' ? undefined : manifest.approvable.length;
  const res = await new Promise((ok, ko) => {
    const inst = autocannon({ url: base, connections, requests, duration: seconds, amount }, (e, r) => (e ? ko(e) : ok(r)));
    setTimeout(() => inst.stop(), seconds * 1000).unref();
  });
  console.log(`${kind}: ${Math.round(res['2xx'] / res.duration)} req/s 2xx, ${res.non2xx} non-2xx, p50 ${res.latency.p50} ms, p99 ${res.latency.p99} ms`);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const file = join(profDir, readdirSync(profDir)[0]);
  console.log(execFileSync(process.execPath, [join(__dirname, 'cpuprofile-summary.js'), file, '--top', values.top ?? '30'], { encoding: 'utf8' }));
}

main().catch((e) => { console.error(e); process.exit(1); });
