/**
 * Bearer tokens and roles (API.md). Tokens come from CARELEDGER_TOKENS_FILE; without it a first
 * start writes a file of fresh random tokens beside the database and says where. Tokens are kept
 * as SHA-256 digests and compared in constant time against every entry.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export type Role =
  | { kind: 'admin' }
  | { kind: 'sales' }
  | { kind: 'device-registry' }
  | { kind: 'auditor' }
  | { kind: 'service-center'; centerId: string };

export type RoleName = Role['kind'];

export interface Principal {
  /** The actor recorded in event metadata: the token's name, else its role. */
  actor: string;
  role: Role;
  roleText: string;
}

interface Entry {
  digest: Buffer;
  principal: Principal;
}

export function parseRole(text: string): Role | null {
  if (text === 'admin' || text === 'sales' || text === 'device-registry' || text === 'auditor') return { kind: text };
  const m = /^service-center:([A-Za-z0-9._-]{1,64})$/.exec(text);
  return m ? { kind: 'service-center', centerId: m[1] } : null;
}

export class TokenRegistry {
  private readonly entries: Entry[];

  constructor(list: { token: string; role: string; name?: string }[]) {
    this.entries = list.map((e, i) => {
      if (typeof e.token !== 'string' || e.token.length < 8) throw new Error(`tokens[${i}]: token must be a string of at least 8 characters`);
      const role = parseRole(e.role);
      if (!role) throw new Error(`tokens[${i}]: unknown role "${e.role}"`);
      return { digest: digest(e.token), principal: { actor: e.name ?? e.role, role, roleText: e.role } };
    });
  }

  /** The principal of a token, checked against every entry in constant time per entry. */
  authenticate(token: string): Principal | null {
    const d = digest(token);
    let found: Principal | null = null;
    for (const e of this.entries) {
      if (timingSafeEqual(d, e.digest) && found === null) found = e.principal;
    }
    return found;
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export interface LoadedTokens {
  registry: TokenRegistry;
  file: string;
  generated: boolean;
}

export function loadTokens(tokensFile: string | null, dbPath: string): LoadedTokens {
  const file = tokensFile ?? join(dirname(dbPath), 'tokens.json');
  if (tokensFile || existsSync(file)) {
    const list = JSON.parse(readFileSync(file, 'utf8'));
    if (!Array.isArray(list)) throw new Error(`${file}: expected a JSON array of { token, role }`);
    return { registry: new TokenRegistry(list), file, generated: false };
  }
  const fresh = ['admin', 'sales', 'device-registry', 'auditor', 'service-center:SC-1'].map((role) => ({
    token: randomBytes(24).toString('base64url'),
    role,
  }));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(fresh, null, 2) + '\n', { mode: 0o600 });
  return { registry: new TokenRegistry(fresh), file, generated: true };
}
