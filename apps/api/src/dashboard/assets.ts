/**
 * The dashboard's static files (index.html, app.js, app.css), read once from the `assets` folder
 * beside this module. Under jest that is apps/api/src/dashboard/assets (the sources); after
 * `nest build api` it is dist/apps/api/apps/api/src/dashboard/assets, copied there by the
 * `assets` entry of nest-cli.json.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Asset {
  name: string;
  body: Buffer;
  contentType: string;
  etag: string;
}

/** The files the page needs, with the content type each is served with. */
export const ASSET_TYPES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

export const ASSETS_DIR = join(__dirname, 'assets');

export type LoadedAssets = { ok: true; dir: string; files: Map<string, Asset> } | { ok: false; dir: string; error: string };

/** Reads every asset from `dir`; a missing file is reported, not thrown. */
export function loadAssets(dir: string = ASSETS_DIR): LoadedAssets {
  const missing = Object.keys(ASSET_TYPES).filter((name) => !existsSync(join(dir, name)));
  if (missing.length > 0) {
    return {
      ok: false,
      dir,
      error: `The dashboard's files (${missing.join(', ')}) are missing from ${dir}; the build must copy apps/api/src/dashboard/assets (nest-cli.json "assets").`,
    };
  }
  const files = new Map<string, Asset>();
  for (const [name, contentType] of Object.entries(ASSET_TYPES)) {
    const body = readFileSync(join(dir, name));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    files.set(name, { name, body, contentType, etag });
  }
  return { ok: true, dir, files };
}
