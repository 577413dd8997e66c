#!/usr/bin/env node
// `npm start` runs this first (prestart): it builds only when dist/ is missing or older than the
// sources, so a start after an unchanged checkout takes a second, not the half minute of a build.
//   node bin/build-if-stale.js           build (npm run build) if needed, say why either way
//   node bin/build-if-stale.js --check   say whether a build is needed; exit 1 if it is, 0 if not
// `npm run build` always builds.
'use strict';
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');
const { spawnSync } = require('node:child_process');

/** What the build produces: both entry points (nest clears each output folder before building). */
const OUTPUTS = [join('dist', 'apps', 'api', 'apps', 'api', 'src', 'main.js'), join('dist', 'apps', 'cli', 'apps', 'cli', 'src', 'main.js')];
/** Folders whose files go into the build (tests and specs excluded), and the build's own settings. */
const SOURCE_DIRS = ['apps', 'libs'];
const SOURCE_FILES = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.base.json', 'nest-cli.json'];
const NOT_BUILT = /(\.spec\.ts$|(^|[\\/])(test|__fixtures__|node_modules)([\\/]|$))/;

/** The newest file under `dir` that the build reads, as { path, mtimeMs }. */
function newest(root, dir, best) {
  const full = join(root, dir);
  if (!existsSync(full)) return best;
  for (const entry of readdirSync(full, { withFileTypes: true })) {
    const rel = join(dir, entry.name);
    if (NOT_BUILT.test(rel)) continue;
    if (entry.isDirectory()) best = newest(root, rel, best);
    else if (entry.isFile()) {
      const mtimeMs = statSync(join(root, rel)).mtimeMs;
      if (!best || mtimeMs > best.mtimeMs) best = { path: rel, mtimeMs };
    }
  }
  return best;
}

/** Whether `root` needs a build: { stale, reason }. */
function staleness(root) {
  let built = Infinity;
  for (const output of OUTPUTS) {
    const file = join(root, output);
    if (!existsSync(file)) return { stale: true, reason: `${output} is missing` };
    built = Math.min(built, statSync(file).mtimeMs);
  }
  let best = null;
  for (const dir of SOURCE_DIRS) best = newest(root, dir, best);
  for (const file of SOURCE_FILES) {
    if (!existsSync(join(root, file))) continue;
    const mtimeMs = statSync(join(root, file)).mtimeMs;
    if (!best || mtimeMs > best.mtimeMs) best = { path: file, mtimeMs };
  }
  if (best && best.mtimeMs > built) return { stale: true, reason: `${best.path} changed since the last build` };
  return { stale: false, reason: 'dist/ is newer than every source' };
}

function main() {
  const root = join(__dirname, '..');
  const check = process.argv.includes('--check');
  const { stale, reason } = staleness(root);
  if (!stale) {
    console.error(`careledger: no build needed (${reason}); \`npm run build\` forces one.`);
    return 0;
  }
  if (check) {
    console.error(`careledger: a build is needed (${reason}).`);
    return 1;
  }
  console.error(`careledger: building first (${reason})...`);
  // the npm that runs this script, else the one on the PATH
  const npm = process.env.npm_execpath;
  const result = npm
    ? spawnSync(process.execPath, [npm, 'run', 'build'], { cwd: root, stdio: 'inherit' })
    : spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.error) {
    console.error(`careledger: could not run the build: ${result.error.message}`);
    return 1;
  }
  return result.status ?? 1;
}

if (require.main === module) process.exit(main());

module.exports = { staleness, OUTPUTS };
