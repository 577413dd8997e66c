/*
 * A require hook for child processes started by tests and benchmarks: it compiles TypeScript on
 * the fly with @swc/core (same settings as .swcrc, so decorator metadata is on) and resolves the
 * @careledger/* path aliases. Usage: node -r ./libs/testing/register.js some-script.ts
 * Tests use it so that a child process runs the same sources jest runs, without a build step.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const swc = require('@swc/core');

const root = path.resolve(__dirname, '..', '..');
const swcrc = JSON.parse(fs.readFileSync(path.join(root, '.swcrc'), 'utf8'));
delete swcrc.$schema;

const aliases = { '@careledger/': path.join(root, 'libs') };
const originalResolve = Module._resolveFilename;
Module._resolveFilename = function resolve(request, parent, ...rest) {
  if (request.startsWith('@careledger/')) {
    const [, lib, ...sub] = request.split('/');
    const target = path.join(aliases['@careledger/'], lib, 'src', ...sub);
    return originalResolve.call(this, target, parent, ...rest);
  }
  return originalResolve.call(this, request, parent, ...rest);
};

require.extensions['.ts'] = function compile(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { code } = swc.transformSync(source, { ...swcrc, filename, sourceMaps: 'inline', swcrc: false });
  module._compile(code, filename);
};
