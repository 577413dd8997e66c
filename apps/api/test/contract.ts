/**
 * The OpenAPI document as a contract the API tests hold the app to: every answer a TestServer
 * sees (harness.ts `call`) is checked against the operation's schema for its status (or the
 * operation's `default`), and any mismatch fails the test that got it. So the document cannot
 * drift from what the app answers.
 *
 * Stricter than the published document on one point: an object schema with properties admits no
 * other property here (a field the app answers but the document does not name is drift), while
 * the published answers stay open to additions (the HTTP contract only grows). `nullable` (OpenAPI
 * 3.0) becomes a union with null, and `format: date-time` means what the API accepts as an instant
 * (libs/domain isInstant: RFC 3339 with an offset, the seconds optional).
 */
import { isInstant } from '@careledger/domain';
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

type Schema = Record<string, unknown>;

interface Operation {
  operationId?: string;
  responses: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}

interface Route {
  template: string;
  pattern: RegExp;
  operations: Record<string, Operation>;
}

export interface Seen {
  operation: string;
  status: number;
}

export class Contract {
  private readonly ajv: Ajv;
  private readonly routes: Route[];
  private readonly validators = new Map<string, ValidateFunction>();
  /** The answers checked so far: operationId and status. */
  readonly seen: Seen[] = [];
  /** The values checked by checkSchema so far: the schema's name, once per value. */
  readonly seenSchemas: string[] = [];

  constructor(readonly document: { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Schema> } }) {
    this.ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addFormat('date-time', { type: 'string', validate: (value: string) => isInstant(value) });
    const definitions = Object.fromEntries(Object.entries(document.components.schemas).map(([name, schema]) => [name, toJsonSchema(schema)]));
    this.ajv.addSchema({ $id: 'openapi', definitions });
    this.routes = Object.entries(document.paths).map(([template, operations]) => ({
      template,
      pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}/]+\}/g, '[^/]+')}$`),
      operations,
    }));
  }

  static async load(baseUrl: string): Promise<Contract> {
    const res = await fetch(`${baseUrl}/docs-json`);
    if (!res.ok) throw new Error(`GET /docs-json answered ${res.status}`);
    return new Contract((await res.json()) as Contract['document']);
  }

  /**
   * Checks one answer; returns what is wrong with it, or null. Paths the document does not have
   * (the /dashboard page, /docs, unknown routes) are not the document's business.
   */
  check(method: string, url: string, status: number, contentType: string | null, body: unknown): string | null {
    const path = url.split('?')[0];
    const route = this.routes.find((r) => r.pattern.test(path));
    const operation = route?.operations[method.toLowerCase()];
    if (!route || !operation) return null;
    const name = `${method} ${route.template} (${operation.operationId ?? '?'}) answered ${status}`;
    const response = operation.responses[String(status)] ?? operation.responses.default;
    if (!response) return `${name}: the document lists no ${status} and no default for it`;
    this.seen.push({ operation: operation.operationId ?? `${method} ${route.template}`, status });
    const media = (contentType ?? '').split(';')[0].trim().toLowerCase();
    if (!response.content) return media === '' ? null : `${name}: the document says no body, the answer is ${media}`;
    const documented = Object.keys(response.content).find((m) => m.split(';')[0].trim().toLowerCase() === media);
    if (!documented) return `${name}: answered ${media || 'no content type'}, the document has ${Object.keys(response.content).join(', ')}`;
    const schema = response.content[documented].schema;
    if (!schema || !media.endsWith('json')) return null;
    const key = `${route.template} ${method} ${status} ${documented}`;
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile(toJsonSchema(schema) as Schema);
      this.validators.set(key, validate);
    }
    if (validate(body)) return null;
    return `${name}: the body does not match the document: ${errorsOf(validate)}\n${JSON.stringify(body).slice(0, 600)}`;
  }

  /**
   * Checks a value against one of the document's schemas by name (strictly, as check does): for
   * what a response carries inside another media type, such as each message of the feed's
   * text/event-stream (a FeedEventView). Returns what is wrong with it, or null.
   */
  checkSchema(name: string, value: unknown): string | null {
    if (!this.document.components.schemas[name]) return `the document has no schema ${name}`;
    this.seenSchemas.push(name);
    const key = `#${name}`;
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `openapi#/definitions/${name}` });
      this.validators.set(key, validate);
    }
    if (validate(value)) return null;
    return `${name}: the value does not match the document: ${errorsOf(validate)}\n${JSON.stringify(value).slice(0, 600)}`;
  }
}

function errorsOf(validate: ValidateFunction): string {
  return (validate.errors ?? [])
    .slice(0, 8)
    .map((e) => `${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`)
    .join('; ');
}

/** OpenAPI 3.0 schema → JSON Schema for Ajv (see the module comment). */
export function toJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (!schema || typeof schema !== 'object') return schema;
  const { nullable, ...rest } = schema as Schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(rest)) {
    if (key === '$ref' && typeof value === 'string') out.$ref = value.replace('#/components/schemas/', 'openapi#/definitions/');
    else if (key === 'properties' && value && typeof value === 'object') {
      out.properties = Object.fromEntries(Object.entries(value as Schema).map(([k, v]) => [k, toJsonSchema(v)]));
    } else if (key === 'example' || key === 'examples' || key === 'description') continue;
    else out[key] = toJsonSchema(value);
  }
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return nullable === true ? { anyOf: [out, { type: 'null' }] } : out;
}
