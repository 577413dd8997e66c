/**
 * A jest transformer that compiles the files the @nestjs/swagger CLI plugin describes (`*.dto.ts`,
 * `*.controller.ts`) the way `nest build` does: TypeScript with the plugin as a `before`
 * transformer, with the options of nest-cli.json. Every other file goes to @swc/jest as before.
 *
 * Why: the plugin needs the type checker (it reads property types, `?`, unions with null, string
 * literal unions, JSDoc and class-validator decorators), which swc does not have. Without it the
 * in-process app of the API tests would publish a document without body schemas, and the tests
 * that validate real responses against /docs-json would be checking a different document than the
 * one `npm start` serves.
 *
 * One TypeScript program per jest worker, made on first use (about a second), over the files of
 * tsconfig.json; jest caches the output by the file's text and a fingerprint of every source file
 * (a DTO's schema depends on the types it names in other files).
 */
'use strict';
const { createHash } = require('node:crypto');
const { readdirSync, readFileSync, statSync } = require('node:fs');
const { join, resolve } = require('node:path');
const ts = require('typescript');

const root = resolve(__dirname, '..', '..', '..');
const nestCli = JSON.parse(readFileSync(join(root, 'nest-cli.json'), 'utf8'));
const pluginOptions = (nestCli.compilerOptions.plugins.find((p) => (typeof p === 'string' ? p : p.name) === '@nestjs/swagger') ?? {}).options ?? {};
const PLUGIN_FILES = /\.(dto|controller)\.ts$/;

let program = null;
function getProgram() {
  if (program) return program;
  const configFile = join(root, 'tsconfig.json');
  const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(configFile, ts.sys.readFile).config, ts.sys, root);
  const options = { ...parsed.options, noEmit: false, sourceMap: false, inlineSourceMap: true, inlineSources: true, declaration: false, incremental: false };
  delete options.outDir;
  program = ts.createProgram({ rootNames: parsed.fileNames.filter((f) => !f.endsWith('.spec.ts')), options });
  return program;
}

let fingerprint = null;
/** The sources' names, sizes and times: a changed type elsewhere changes every plugin file's key. */
function sourcesFingerprint() {
  if (fingerprint) return fingerprint;
  const hash = createHash('sha256');
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'dist') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) {
        const s = statSync(path);
        hash.update(`${path}:${s.size}:${s.mtimeMs}\n`);
      }
    }
  };
  walk(join(root, 'apps'));
  walk(join(root, 'libs'));
  hash.update(readFileSync(join(__dirname, 'swagger-plugin.transform.js')));
  hash.update(JSON.stringify(pluginOptions));
  hash.update(require('@nestjs/swagger/package.json').version);
  hash.update(ts.version);
  fingerprint = hash.digest('hex');
  return fingerprint;
}

const swc = require('@swc/jest').createTransformer();

module.exports = {
  canInstrument: false,
  getCacheKey(source, path, options) {
    if (!PLUGIN_FILES.test(path)) return swc.getCacheKey(source, path, options);
    return createHash('sha256').update(source).update('\0').update(path).update('\0').update(sourcesFingerprint()).digest('hex');
  },
  process(source, path, options) {
    if (!PLUGIN_FILES.test(path)) return swc.process(source, path, options);
    const p = getProgram();
    const file = p.getSourceFile(path);
    if (!file) throw new Error(`swagger-plugin.transform: ${path} is not in the program of tsconfig.json`);
    const plugin = require('@nestjs/swagger/plugin').before({ ...pluginOptions }, p);
    let code = null;
    const result = p.emit(file, (name, text) => {
      if (name.endsWith('.js')) code = text;
    }, undefined, false, { before: [plugin] });
    if (code === null) {
      const diagnostics = ts.formatDiagnostics(result.diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' });
      throw new Error(`swagger-plugin.transform: no output for ${path}\n${diagnostics}`);
    }
    return { code };
  },
};
