/**
 * docker-compose.yml's `postgres` service, as the PostgreSQL store expects it: opt-in through a
 * profile (a plain `docker compose up` is unchanged), reachable from this machine only, healthy only
 * when it accepts connections, data on a volume. (No Docker engine runs here; this keeps it honest.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const compose = parse(readFileSync(join(__dirname, '..', '..', '..', '..', 'docker-compose.yml'), 'utf8'));

describe("docker-compose.yml's postgres service", () => {
  const postgres = compose.services.postgres;

  it('runs PostgreSQL 15 only under the postgres profile', () => {
    expect(postgres.image).toBe('postgres:15');
    expect(postgres.profiles).toEqual(['postgres']);
    // A service without the profile may not depend on it, or `docker compose up` would fail.
    for (const [name, service] of Object.entries<{ profiles?: string[]; depends_on?: Record<string, unknown> | string[] }>(compose.services)) {
      if (service.profiles?.includes('postgres')) continue;
      const dependsOn = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
      expect({ name, dependsOn: dependsOn.includes('postgres') }).toEqual({ name, dependsOn: false });
    }
  });

  it('publishes its port on 127.0.0.1 only and keeps its data on a named volume', () => {
    expect(postgres.ports.length).toBeGreaterThan(0);
    for (const port of postgres.ports as string[]) expect(port).toMatch(/^127\.0\.0\.1:\d+:5432$/);
    const [volume] = (postgres.volumes as string[]).filter((v) => v.endsWith(':/var/lib/postgresql/data'));
    expect(Object.keys(compose.volumes)).toContain(volume.split(':')[0]);
  });

  it('is healthy when pg_isready answers for its own user and database', () => {
    const check = postgres.healthcheck.test.join(' ');
    expect(check).toContain('pg_isready');
    expect(check).toContain(`-U ${postgres.environment.POSTGRES_USER}`);
    expect(check).toContain(`-d ${postgres.environment.POSTGRES_DB}`);
  });
});
