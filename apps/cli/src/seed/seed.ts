/**
 * `careledger seed --devices N [--seed S]`: realistic data through the real Ledger, so every event
 * is a decided one. Units run their lives concurrently (several commands in flight, so appends
 * share group commits); each life is sequential. With --workers W, W processes share the units
 * (unit i goes to worker i mod W) and append to the same store. Writes a manifest the benchmark
 * reads: sample serials, long histories, open claims to approve and plans to renew.
 */
import { fork } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Presets, SingleBar } from 'cli-progress';
import { REGIONS, Refusal } from '@careledger/domain';
import { rebuild } from '@careledger/projections';
import { CommandResult, stableId } from '@careledger/ledger';
import { Runtime } from '@careledger/runtime';
import { commandUsage, COMMANDS, EXIT } from '../args';
import type { CliContext } from '../main';
import { eventProgress } from '../progress';
import { iso, life, LifeEnv, LifeKind, StepResult } from './life';
import { Rng } from './rng';

export interface SeedManifest {
  seed: number;
  devices: number;
  pool: number;
  horizon: string;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  commands: number;
  refused: Record<string, number>;
  events: number;
  eventsPerSecond: number;
  commandsPerSecond: number;
  concurrency: number;
  workers: number;
  kinds: Record<LifeKind, number>;
  /** A uniform sample of current holders (at most 20,000). */
  units: string[];
  long: { serial: string; from: string; until: string }[];
  approvable: { claimId: string; centerId: string; at: string }[];
  renewable: { planId: string; purchasedAt: string; orderId: string; currency: string }[];
}

const SAMPLE = 20_000;

interface Options {
  devices: number;
  seed: number;
  concurrency: number;
  workers: number;
  pool: number;
  longShare: number;
  sync: 'FULL' | 'NORMAL';
  horizonMs: number;
  manifestPath: string;
  project: boolean;
  quiet: boolean;
  /** Set in a worker process: [index, count]. */
  worker: [number, number] | null;
  /** --database-url: PostgreSQL instead of the --db file. */
  databaseUrl: string | null;
}

/** The options, from values args.ts has already checked one by one and against each other. */
function parse(ctx: CliContext): Options | null {
  const values = ctx.values;
  const o = {
    devices: Number(values.devices),
    seed: Number(values.seed ?? 1),
    concurrency: Number(values.concurrency ?? 48),
    workers: Number(values.workers ?? 1),
    pool: Number(values.pool ?? 0),
    longShare: Number(values['long-share'] ?? 0.01),
    sync: String(values.sync ?? 'full').toUpperCase() as 'FULL' | 'NORMAL',
  };
  const int = (n: number, min: number) => Number.isInteger(n) && n >= min;
  if (!int(o.devices, 1) || !int(o.seed, 0) || !int(o.concurrency, 1) || !int(o.workers, 1) || !int(o.pool, 0) || o.pool > o.devices
    || !(o.longShare >= 0 && o.longShare <= 1) || (o.sync !== 'FULL' && o.sync !== 'NORMAL')) {
    return null;
  }
  const fixedHorizon = Date.parse(`${String(values.horizon ?? '2026-11-01')}T00:00:00Z`);
  const horizonMs = values.horizon ? fixedHorizon : Math.min(fixedHorizon, Date.now() - 86_400_000);
  if (!Number.isFinite(horizonMs) || horizonMs > Date.now()) return null;
  const worker = typeof values.worker === 'string' ? (values.worker.split('/').map(Number) as [number, number]) : null;
  return {
    ...o, horizonMs, worker,
    manifestPath: (values.manifest as string | undefined) ?? ctx.dbPath.replace(/\.[^./\\]+$/, '') + '.seed.json',
    project: !values['no-project'],
    quiet: Boolean(values.quiet),
    databaseUrl: typeof values['database-url'] === 'string' ? values['database-url'] : null,
  };
}

export async function seedCommand(ctx: CliContext): Promise<number> {
  const o = parse(ctx);
  if (!o) {
    console.error(`${commandUsage(COMMANDS.seed)}`);
    return EXIT.usage;
  }
  if (o.worker) return runWorker(ctx, o);

  const rt = await open(ctx, o);
  const startedAt = new Date();
  const started = performance.now();
  const registered = await registerCenters(rt, o.seed);
  const centers = registered.centers;
  const progress = new SingleBar(
    { format: 'seed [{bar}] {percentage}% | {value}/{total} units | {events} events | {rate} cmd/s | {eta_formatted} left', stream: process.stderr, hideCursor: true, noTTYOutput: !o.quiet, notTTYSchedule: 5000 },
    Presets.shades_classic,
  );
  if (!o.quiet) progress.start(o.devices, 0, { events: 0, rate: 0 });
  let parts: Part[];
  if (o.workers > 1) {
    await rt.close();
    parts = await runWorkers(ctx, o, (done, commands, events) => {
      if (!o.quiet) progress.update(done, { events: registered.events + events, rate: Math.round(commands / ((performance.now() - started) / 1000)) });
    });
  } else {
    let lastTick = 0;
    parts = [await runLives(rt, o, centers, 0, 1, (done, commands, events) => {
      const now = performance.now();
      if (o.quiet || now - lastTick < 250) return;
      lastTick = now;
      progress.update(done, { events: registered.events + events, rate: Math.round(commands / ((now - started) / 1000)) });
    })];
    await rt.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const rt2 = await open(ctx, o);
  // counted as they were appended (positions are not counts on EventStoreDB or PostgreSQL)
  const events = registered.events + parts.reduce((s, p) => s + p.events, 0);
  if (!o.quiet) {
    progress.update(o.devices, { events, rate: 0 });
    progress.stop();
  }
  const manifest = merge(parts, o, startedAt, seconds, events);
  writeFileSync(o.manifestPath, JSON.stringify(manifest) + '\n');

  if (o.project) {
    const bar = await eventProgress(rt2.store, 'project', { enabled: !o.quiet });
    await rebuild(rt2.store, rt2.readDb, rt2.catalogue, { onProgress: (p) => bar.update(p.events) });
    bar.stop();
  }
  await rt2.close();
  const { units: _u, long: _l, approvable, renewable, ...summary } = manifest;
  console.log(JSON.stringify({ ...summary, approvable: approvable.length, renewable: renewable.length, manifest: o.manifestPath }));
  return 0;
}

function open(ctx: CliContext, o: Options): Promise<Runtime> {
  return Runtime.open({
    dbPath: ctx.dbPath,
    readDbPath: ctx.readDbPath,
    databaseUrl: o.databaseUrl,
    // never the store the environment points at: synthetic units could never be removed from it
    eventStoreConnectionString: null,
    cataloguePath: process.env.CARELEDGER_CATALOGUE || null,
    synchronous: o.sync,
    project: false,
  });
}

/** The events a command appended: its own unless it was a repeat (counts, since positions are not). */
function appended(result: CommandResult): number {
  return result.repeat ? 0 : result.eventIds.length;
}

/** A refusal the ledger recorded in the log appended one fact. */
function refusalFacts(error: unknown): number {
  return error instanceof Refusal && error.recorded !== null && error.recorded.position !== '0' ? 1 : 0;
}

/** The service-center directory: three centers per region; and how many events that appended. */
async function registerCenters(rt: Runtime, seed: number): Promise<{ centers: Record<string, string[]>; events: number }> {
  const centers: Record<string, string[]> = {};
  let events = 0;
  for (const region of REGIONS) {
    centers[region] = [];
    for (let k = 1; k <= 3; k++) {
      const centerId = `SC-${region}-${k}`;
      centers[region].push(centerId);
      const result = await rt.ledger.execute(
        { type: 'RegisterServiceCenter', centerId, name: `Service center ${region} ${k}`, region, at: iso(Date.UTC(2021, 0, 1)) },
        { actor: 'admin', correlationId: `seed-${seed}-centers`, decisionId: stableId(`seed:${seed}:center:${centerId}`) },
      );
      events += appended(result);
    }
  }
  return { centers, events };
}

/** What one process generated. */
interface Part {
  commands: number;
  /** Events appended by these commands (refusal facts included). */
  events: number;
  refused: Record<string, number>;
  kinds: Record<LifeKind, number>;
  units: string[];
  long: SeedManifest['long'];
  approvable: SeedManifest['approvable'];
  renewable: SeedManifest['renewable'];
}

async function runLives(
  rt: Runtime,
  o: Options,
  centers: Record<string, string[]>,
  worker: number,
  workers: number,
  onProgress: (done: number, commands: number, events: number) => void,
): Promise<Part> {
  const part: Part = { commands: 0, events: 0, refused: {}, kinds: { normal: 0, long: 0, pool: 0 }, units: [], long: [], approvable: [], renewable: [] };
  const sampler = new Rng(o.seed ^ 0x2545f491 ^ worker);
  let seenUnits = 0;
  const env: LifeEnv = {
    seed: o.seed, devices: o.devices, pool: o.pool, longShare: o.longShare, horizonMs: o.horizonMs, catalogue: rt.catalogue, centers,
    notes: {
      unit: (serial, kind) => {
        part.kinds[kind]++;
        // reservoir sample, so big runs keep a uniform sample of every kind of unit
        seenUnits++;
        if (part.units.length < SAMPLE) part.units.push(serial);
        else {
          const j = Math.floor(sampler.next() * seenUnits);
          if (j < SAMPLE) part.units[j] = serial;
        }
      },
      long: (serial, fromMs, untilMs) => {
        if (part.long.length < 5000) part.long.push({ serial, from: iso(fromMs), until: iso(untilMs) });
      },
      approvable: (entry) => part.approvable.push(entry),
      renewable: (entry) => part.renewable.push(entry),
    },
  };
  const runLife = async (index: number) => {
    const script = life(index, env);
    let step = 0;
    let r = script.next();
    while (!r.done) {
      const { command, actor } = r.value;
      let result: StepResult;
      try {
        const outcome = await rt.ledger.execute(command, { actor, correlationId: `seed-${o.seed}-${index}`, decisionId: stableId(`seed:${o.seed}:${index}:${step}`) });
        part.commands++;
        part.events += appended(outcome);
        result = { ok: true, answer: outcome.answer, eventIds: outcome.eventIds, streamId: outcome.streamId };
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (typeof code !== 'string' || !['Refusal', 'StateConflict', 'NotFound', 'InvalidCommand'].includes((error as Error).name)) throw error;
        part.events += refusalFacts(error);
        part.refused[code] = (part.refused[code] ?? 0) + 1;
        result = { ok: false, code };
      }
      step++;
      r = script.next(result);
    }
  };
  let next = worker;
  let done = 0;
  const lane = async () => {
    for (;;) {
      const index = next;
      if (index >= o.devices) return;
      next += workers;
      await runLife(index);
      done++;
      onProgress(done, part.commands, part.events);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, lane));
  return part;
}

/** A worker process: its share of the units; reports progress to the parent, writes its part. */
async function runWorker(ctx: CliContext, o: Options): Promise<number> {
  const [worker, workers] = o.worker!;
  const rt = await open(ctx, o);
  const centers: Record<string, string[]> = {};
  for (const region of REGIONS) centers[region] = [1, 2, 3].map((k) => `SC-${region}-${k}`);
  let last = 0;
  const part = await runLives(rt, o, centers, worker, workers, (done, commands, events) => {
    const now = performance.now();
    if (now - last > 250) {
      last = now;
      process.send?.({ done, commands, events });
    }
  });
  await rt.close();
  writeFileSync(o.manifestPath, JSON.stringify(part));
  process.send?.({ done: -1, commands: part.commands, events: part.events });
  return 0;
}

/** The parent's arguments a worker shares: without those the parent sets for it (each may be given once). */
function workerArgs(args: string[]): string[] {
  const withValue = new Set(['--workers', '--manifest', '--db', '--read-db']);
  const flags = new Set(['--no-project', '--quiet']);
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].split('=')[0];
    if (withValue.has(name)) {
      if (!args[i].includes('=')) i++;
    } else if (!flags.has(name)) {
      out.push(args[i]);
    }
  }
  return out;
}

function runWorkers(ctx: CliContext, o: Options, onProgress: (done: number, commands: number, events: number) => void): Promise<Part[]> {
  const status = Array.from({ length: o.workers }, () => ({ done: 0, commands: 0, events: 0 }));
  const files = status.map((_, w) => `${o.manifestPath}.part${w}`);
  const children = status.map((_, w) => {
    const args = [...workerArgs(ctx.args), '--worker', `${w}/${o.workers}`, '--manifest', files[w], '--no-project', '--quiet', '--db', ctx.dbPath, '--read-db', ctx.readDbPath];
    const child = fork(process.argv[1], ['seed', ...args], { execArgv: process.execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child.on('message', (m: { done: number; commands: number; events: number }) => {
      if (m.done >= 0) status[w] = m;
      const done = status.reduce((s, x) => s + x.done, 0);
      const commands = status.reduce((s, x) => s + x.commands, 0);
      onProgress(done, commands, status.reduce((s, x) => s + x.events, 0));
    });
    return new Promise<void>((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`seed worker ${w} exited with ${code}`)))));
  });
  return Promise.all(children).then(() => files.map((f) => {
    const part = JSON.parse(readFileSync(f, 'utf8')) as Part;
    rmSync(f, { force: true });
    return part;
  }));
}

function merge(parts: Part[], o: Options, startedAt: Date, seconds: number, events: number): SeedManifest {
  const refused: Record<string, number> = {};
  for (const p of parts) for (const [code, n] of Object.entries(p.refused)) refused[code] = (refused[code] ?? 0) + n;
  const commands = parts.reduce((s, p) => s + p.commands, 0);
  // each part's sample is uniform over its share; interleave them, keep at most SAMPLE
  const units: string[] = [];
  for (let i = 0; units.length < SAMPLE; i++) {
    const before = units.length;
    for (const p of parts) if (i < p.units.length && units.length < SAMPLE) units.push(p.units[i]);
    if (units.length === before) break;
  }
  return {
    seed: o.seed, devices: o.devices, pool: o.pool, horizon: iso(o.horizonMs), startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(), seconds: +seconds.toFixed(2), commands, refused, events,
    eventsPerSecond: Math.round(events / seconds), commandsPerSecond: Math.round(commands / seconds),
    concurrency: o.concurrency, workers: o.workers,
    kinds: { normal: sum(parts, 'normal'), long: sum(parts, 'long'), pool: sum(parts, 'pool') },
    units,
    long: parts.flatMap((p) => p.long).slice(0, 5000),
    approvable: parts.flatMap((p) => p.approvable),
    renewable: parts.flatMap((p) => p.renewable),
  };
}

function sum(parts: Part[], kind: LifeKind): number {
  return parts.reduce((s, p) => s + p.kinds[kind], 0);
}
