/**
 * The raw read ceiling: better-sqlite3 iterates the whole events table in position order and
 * JSON.parses data and metadata, and nothing else. No projection can read the log faster.
 * Usage: node bench/lib/ceiling.js DB  (prints one JSON line)
 */
'use strict';
const Database = require('better-sqlite3');

const db = new Database(process.argv[2], { readonly: true });
db.defaultSafeIntegers(true);
const started = performance.now();
let events = 0;
let bytes = 0;
for (const row of db.prepare('SELECT * FROM events ORDER BY position').iterate()) {
  const data = JSON.parse(row.data);
  const metadata = JSON.parse(row.metadata);
  if (data === undefined || metadata === undefined) throw new Error('unreachable');
  bytes += row.data.length + row.metadata.length;
  events++;
}
const seconds = (performance.now() - started) / 1000;
db.close();
console.log(JSON.stringify({ events, seconds: +seconds.toFixed(3), eventsPerSecond: Math.round(events / seconds), jsonBytes: bytes, peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) }));
