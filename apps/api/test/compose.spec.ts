/**
 * docker-compose.yml and the app agree: service names, variable names, ports, the connection
 * string the client will parse, and the image's entry point. (No Docker engine runs here; this
 * keeps the file honest.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventStoreDBClient } from '@eventstore/db-client';
import { parse } from 'yaml';
import { ENV_VARS, loadConfig } from '../src/config';

const root = join(__dirname, '..', '..', '..');
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'));
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');

describe('docker-compose.yml', () => {
  const api = compose.services.api;
  const eventstore = compose.services.eventstore;

  test('has an EventStoreDB node and the api, which waits for it', () => {
    expect(eventstore.image).toMatch(/eventstore|kurrent/);
    expect(eventstore.environment.EVENTSTORE_INSECURE).toBe('true');
    expect(eventstore.volumes.some((v: string) => v.endsWith(':/var/lib/eventstore'))).toBe(true);
    expect(Object.keys(api.depends_on)).toContain('eventstore');
  });

  test('every variable given to the api is one the app reads, and they configure EventStoreDB', () => {
    for (const name of Object.keys(api.environment)) expect(ENV_VARS).toContain(name);
    const config = loadConfig(api.environment);
    expect(config.eventStoreConnectionString).toMatch(/^esdb:\/\//);
    expect(config.dbPath).toBe('/data/careledger.sqlite');
    expect(api.volumes.some((v: string) => v.endsWith(':/data'))).toBe(true);
  });

  test('the connection string names the eventstore service on its port, and the client accepts it', async () => {
    const url = new URL(api.environment.EVENTSTORE_CONNECTION_STRING.replace(/^esdb:/, 'http:'));
    expect(url.hostname).toBe('eventstore');
    const port = Number(url.port || 2113);
    expect(eventstore.ports.map((p: string) => Number(p.split(':').pop()))).toContain(port);
    expect(eventstore.environment.EVENTSTORE_HTTP_PORT).toBe(String(port));
    expect(url.searchParams.get('tls')).toBe('false');
    const client = EventStoreDBClient.connectionString(api.environment.EVENTSTORE_CONNECTION_STRING);
    await client.dispose();
  });

  test('publishes every port on 127.0.0.1 only (an insecure node and a dev API stay off the network)', () => {
    for (const [name, service] of Object.entries(compose.services as Record<string, { ports?: unknown[] }>)) {
      for (const port of service.ports ?? []) {
        const hostIp = typeof port === 'string' ? (port.split(':').length === 3 ? port.split(':')[0] : null) : (port as { host_ip?: string }).host_ip;
        expect({ service: name, port, hostIp }).toEqual({ service: name, port, hostIp: '127.0.0.1' });
      }
    }
    expect(eventstore.ports).toContain('127.0.0.1:2113:2113');
    expect(api.ports).toContain('127.0.0.1:3000:3000');
  });

  test('the api starts only once the node is healthy, and restarts when it fails', () => {
    expect(api.depends_on.eventstore).toEqual({ condition: 'service_healthy' });
    expect(eventstore.healthcheck.test.join(' ')).toContain('http://localhost:2113/health/live');
    expect(['on-failure', 'unless-stopped', 'always']).toContain(String(api.restart).split(':')[0]);
    expect(api.restart).not.toBe('no');
  });

  test('the api listens where it is published, and the image runs the built app', () => {
    const containerPort = Number(api.environment.PORT);
    expect(api.ports.map((p: string) => Number(p.split(':').pop()))).toContain(containerPort);
    expect(loadConfig(api.environment).port).toBe(containerPort);
    expect(api.build).toBe('.');
    expect(dockerfile).toContain('CMD ["node", "--max-semi-space-size=32", "dist/apps/api/apps/api/src/main.js"]');
    // the image runs the server with the flags npm start gives it
    const start = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
    expect(start).toBe('node --max-semi-space-size=32 dist/apps/api/apps/api/src/main.js');
    expect(dockerfile).toMatch(/EXPOSE 3000/);
  });
});
