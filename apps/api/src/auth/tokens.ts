/**
 * Bearer tokens and roles (API.md). Tokens come from CARELEDGER_TOKENS_FILE; without it a first
 * start writes a file of fresh random tokens beside the database and says where. Tokens are kept
 * only as SHA-256 digests: a request's token is hashed and its digest looked up in a map, so the
 * time taken does not depend on how much of a stored token the presented one shares (the digest is
 * what is compared, and a digest says nothing usable about the token), and not on how many tokens
 * there are.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError } from '../config';

export type Role =
  | { kind: 'admin' }
  | { kind: 'sales' }
  | { kind: 'device-registry' }
  | { kind: 'auditor' }
  /** Read-only, for the systems around the ledger: the event feed and nothing else. */
  | { kind: 'integration' }
  | { kind: 'service-center'; centerId: string };

export type RoleName = Role['kind'];

export interface Principal {
  /** The actor recorded in event metadata: the token's name, else its role. */
  actor: string;
  /** The token's identity (a digest, never the token): Idempotency-Keys are scoped to it. */
  tokenId: string;
  role: Role;
  roleText: string;
}

export function parseRole(text: string): Role | null {
  if (text === 'admin' || text === 'sales' || text === 'device-registry' || text === 'auditor' || text === 'integration') return { kind: text };
  const m = /^service-center:([A-Za-z0-9._-]{1,64})$/.exec(text);
  return m ? { kind: 'service-center', centerId: m[1] } : null;
}

export class TokenRegistry {
  private readonly byDigest = new Map<string, Principal>();

  constructor(list: { token: string; role: string; name?: string }[]) {
    list.forEach((e, i) => {
      if (e === null || typeof e !== 'object') throw new Error(`tokens[${i}]: must be an object { token, role }`);
      if (typeof e.token !== 'string' || e.token.length < 8) throw new Error(`tokens[${i}]: token must be a string of at least 8 characters`);
      const role = parseRole(e.role);
      if (!role) throw new Error(`tokens[${i}]: unknown role "${e.role}"`);
      const d = digest(e.token);
      if (this.byDigest.has(d)) throw new Error(`tokens[${i}]: the same token is listed twice`);
      this.byDigest.set(d, { actor: e.name ?? e.role, tokenId: d.slice(0, 16), role, roleText: e.role });
    });
  }

  /** The principal of a token: one digest and one map lookup, whatever the token and however many there are. */
  authenticate(token: string): Principal | null {
    return this.byDigest.get(digest(token)) ?? null;
  }

  /** The service centers that tokens act for (a first start registers them in the directory). */
  centers(): string[] {
    return [...new Set([...this.byDigest.values()].flatMap((p) => (p.role.kind === 'service-center' ? [p.role.centerId] : [])))];
  }
}

function digest(token: string): string {
  return createHash('sha256').update(`careledger-token:${token}`, 'utf8').digest('hex');
}

export interface LoadedTokens {
  registry: TokenRegistry;
  file: string;
  generated: boolean;
}

export function loadTokens(tokensFile: string | null, dbPath: string): LoadedTokens {
  const file = tokensFile ?? join(dirname(dbPath), 'tokens.json');
  if (tokensFile || existsSync(file)) return { registry: readTokensFile(file, tokensFile !== null), file, generated: false };
  const fresh = GENERATED_ROLES.map((role) => ({
    token: randomBytes(24).toString('base64url'),
    role,
  }));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(fresh, null, 2) + '\n', { mode: 0o600 });
  return { registry: new TokenRegistry(fresh), file, generated: true };
}

/** The roles a first start writes tokens for (the service center's is registered in the directory: main.ts). */
export const GENERATED_ROLES = ['admin', 'sales', 'device-registry', 'auditor', 'service-center:SC-1'];

const SHAPE = 'a JSON array of { "token", "role", "name" (optional) }';

/** Reads a tokens file; what is wrong with it is a ConfigError naming the file, the variable and the fix. */
function readTokensFile(file: string, named: boolean): TokenRegistry {
  const which = named ? `CARELEDGER_TOKENS_FILE names ${file}, which` : `The tokens file ${file}, beside CARELEDGER_DB,`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new ConfigError('CARELEDGER_TOKENS_FILE', `${which} does not exist: create it (${SHAPE}), or unset CARELEDGER_TOKENS_FILE to have fresh tokens written beside the database on this start.`);
    }
    const reason =
      code === 'EACCES' || code === 'EPERM' ? `may not be read by this user (uid ${process.getuid?.() ?? '?'})` : code === 'EISDIR' ? 'is a directory, not a file' : `cannot be read (${code ?? String(error)})`;
    throw new ConfigError('CARELEDGER_TOKENS_FILE', `${which} ${reason}: point CARELEDGER_TOKENS_FILE at a file this user can read (${SHAPE}; mode 600).`);
  }
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch (error) {
    throw new ConfigError('CARELEDGER_TOKENS_FILE', `${which} is not valid JSON (${(error as Error).message}): fix it; it is ${SHAPE}.`);
  }
  if (!Array.isArray(list)) throw new ConfigError('CARELEDGER_TOKENS_FILE', `${which} is not a JSON array: make it ${SHAPE}.`);
  try {
    return new TokenRegistry(list as { token: string; role: string; name?: string }[]);
  } catch (error) {
    throw new ConfigError('CARELEDGER_TOKENS_FILE', `${which} has a bad entry (${(error as Error).message}): fix it; roles are admin, sales, device-registry, auditor, integration and service-center:<id>.`);
  }
}

/**
 * Files holding secrets (the tokens file, the signing key) that others than their owner may read:
 * one warning each. They are still used (an operator may have reasons, such as a group of
 * operators), but it is said clearly, at every start.
 */
export function secretFileWarnings(files: { file: string | null; what: string }[]): { file: string; mode: string; message: string }[] {
  const warnings: { file: string; mode: string; message: string }[] = [];
  for (const { file, what } of files) {
    if (!file || !existsSync(file)) continue;
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) === 0) continue;
    const who = [(mode & 0o070) !== 0 ? 'its group' : null, (mode & 0o007) !== 0 ? 'every user' : null].filter(Boolean).join(' and ');
    const octal = mode.toString(8).padStart(4, '0');
    warnings.push({ file, mode: octal, message: `The ${what} ${file} may be read by ${who} (mode ${octal}); it holds secrets: chmod 600 it.` });
  }
  return warnings;
}
