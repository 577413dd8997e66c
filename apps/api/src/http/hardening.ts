/**
 * What stands between the network and the routes: the one JSON body parser (UTF-8 only, bounded
 * nesting, well-formed Unicode), an honest body limit (an oversized body is read to its end before
 * the 413, so a client still sending sees the answer instead of a reset), problem+json for the
 * errors the framework answers before any route runs (bad path encoding, over-long path parameters,
 * malformed requests), and the security headers.
 */
import helmet from 'helmet';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Socket } from 'node:net';
import { pipeline, Readable, Transform } from 'node:stream';
import { problem, Problem, ProblemException, sendProblem, toProblem } from './problem';

/** Deeper JSON than any body of the API needs (3 levels) by far, and far from any recursion limit. */
export const MAX_JSON_DEPTH = 32;
/** How much of an oversized body is read (and dropped) so that its 413 reaches the client. */
export const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;
const DRAIN_MS = 10_000;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export const malformedJson = (detail: string) =>
  new ProblemException(problem(400, 'MalformedJson', detail, { errors: [{ field: '', message: 'malformed JSON' }] }));
export const payloadTooLarge = (limit: number) =>
  new ProblemException(problem(413, 'PayloadTooLarge', `The request body is too large: at most ${limit} bytes.`));
export const unsupportedMediaType = (detail = 'Send the body as application/json (UTF-8).') =>
  new ProblemException(problem(415, 'UnsupportedMediaType', detail));

/**
 * The app's only body parser: application/json in UTF-8. Another charset is a 415 (it would be
 * misread); bytes that are not UTF-8, nesting deeper than MAX_JSON_DEPTH and JSON that is not
 * JSON are 400 MalformedJson; a string with a lone UTF-16 surrogate (`"\udfff"`) is a 400 naming
 * the field. An empty body is no body. Prototype poisoning is refused by Fastify's own parser.
 */
export function registerJsonParser(fastify: FastifyInstance, parserLimit: number): void {
  fastify.removeAllContentTypeParsers();
  const secureParse = fastify.getDefaultJsonParser('error', 'error');
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: parserLimit }, (request, body, done) => {
    const charset = charsetOf(request.headers['content-type']);
    if (charset !== null && charset !== 'utf-8' && charset !== 'utf8') {
      done(unsupportedMediaType(`Send the body as application/json in UTF-8 (charset=${charset.slice(0, 40)} is not supported).`), undefined);
      return;
    }
    const bytes = body as Buffer;
    if (bytes.length === 0) {
      done(null, undefined);
      return;
    }
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      done(malformedJson('The body is not valid UTF-8.'), undefined);
      return;
    }
    if (nestingDeeperThan(text, MAX_JSON_DEPTH)) {
      done(malformedJson(`The body nests deeper than ${MAX_JSON_DEPTH} levels.`), undefined);
      return;
    }
    void secureParse(request, text, (error: Error | null, value?: unknown) => {
      if (error) {
        done(malformedJson('The body is not valid JSON.'), undefined);
        return;
      }
      const broken = firstIllFormedString(value, '');
      if (broken !== null) {
        done(
          new ProblemException(problem(400, 'ValidationFailed', 'The request has invalid fields.', {
            errors: [{ field: broken, message: 'must be well-formed Unicode (no lone surrogates)' }],
          })),
          undefined,
        );
        return;
      }
      done(null, value);
    });
  });
}

function charsetOf(contentType: string | undefined): string | null {
  if (!contentType) return null;
  const m = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(contentType);
  return m ? m[1].toLowerCase() : null;
}

/** True when brackets outside strings nest deeper than `max` (a scan, no recursion). */
export function nestingDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** The path of the first key or string that is not well-formed UTF-16, else null (depth is bounded already). */
const LONE_SURROGATE = /\p{Cs}/u;
const LONE_SURROGATES = /\p{Cs}/gu;

export function firstIllFormedString(value: unknown, path: string): string | null {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? path : null;
  if (value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = firstIllFormedString(value[i], `${path}[${i}]`);
      if (found !== null) return found;
    }
    return null;
  }
  for (const [key, inner] of Object.entries(value)) {
    const field = path ? `${path}.${key}` : key;
    if (LONE_SURROGATE.test(key)) return field.replace(LONE_SURROGATES, '\ufffd');
    const found = firstIllFormedString(inner, field);
    if (found !== null) return found;
  }
  return null;
}

/**
 * The body limit, honestly: a body that is or becomes larger than `limit` is read to its end (up
 * to DRAIN_LIMIT_BYTES and DRAIN_MS, then the connection is closed) and answered 413. Answering
 * while the client is still sending and closing the connection makes the kernel reset it, and a
 * client reading its answer only after sending (fetch) then sees a reset instead of the 413.
 */
export function registerBodyLimit(fastify: FastifyInstance, limit: number): void {
  fastify.addHook('preParsing', (request: FastifyRequest, _reply: FastifyReply, payload: Readable, done: (err: Error | null, payload?: Readable) => void) => {
    const length = request.headers['content-length'];
    // no body at all (a GET): nothing to count, and a pipeline per request cost ~25 µs of a cached read
    if (length === undefined && request.headers['transfer-encoding'] === undefined) {
      done(null, payload);
      return;
    }
    const declared = Number(length);
    if (Number.isFinite(declared) && declared <= limit) {
      done(null, payload);
      return;
    }
    let received = 0;
    let timer: NodeJS.Timeout | null = null;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        if (received <= limit) {
          callback(null, chunk);
          return;
        }
        if (received > DRAIN_LIMIT_BYTES) {
          callback(payloadTooLarge(limit));
          return;
        }
        timer ??= setTimeout(() => counted.destroy(payloadTooLarge(limit)), DRAIN_MS).unref();
        callback();
      },
      flush(callback) {
        if (timer) clearTimeout(timer);
        callback(received > limit ? payloadTooLarge(limit) : null);
      },
    });
    pipeline(payload, counted, () => {
      if (timer) clearTimeout(timer);
    });
    done(null, counted);
  });
}

/** Fastify answers these before any route or hook: bad percent-encoding, an over-long path parameter. */
export function frameworkErrors(error: Error, _request: FastifyRequest, reply: FastifyReply): void {
  const { problem: p, retryAfter } = toProblem(error);
  sendProblem(reply, p, retryAfter);
}

/** Node's HTTP parser refused the request (malformed, headers too large, timed out): a problem, then close. */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  let p: Problem;
  if (error.code === 'HPE_HEADER_OVERFLOW') p = problem(431, 'HeadersTooLarge', 'The request line or headers are too large.');
  else if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') p = problem(408, 'RequestTimeout', 'The request was not received in time.');
  else p = problem(400, 'MalformedRequest', 'The request is not valid HTTP/1.1.');
  const body = JSON.stringify(p);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${p.status} ${p.title}\r\nContent-Type: application/problem+json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * Security headers from helmet, worked out once (the policy is static, and building helmet on
 * every request cost ~47 µs of a ~200 µs cached read). No inline script or style anywhere, except
 * inline styles on /docs, whose page (Swagger UI, third-party) inlines them; scripts are never
 * inline. HSTS only on a request that came over TLS to this process: `request.protocol` does not
 * trust X-Forwarded-Proto (no trustProxy), so behind a TLS-terminating proxy, the proxy sends HSTS.
 */
export interface SecurityHeaders {
  common: Record<string, string>;
  docs: Record<string, string>;
  hsts: string;
}

export function securityHeaders(): SecurityHeaders {
  const strict = {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    frameAncestors: ["'none'"],
    // helmet's default would make browsers fetch the page's scripts over https on a plain-http origin (the /dashboard over a LAN address)
    upgradeInsecureRequests: null,
  };
  const common = headersOf(helmet({ contentSecurityPolicy: { directives: strict }, crossOriginEmbedderPolicy: false }));
  const docs = headersOf(
    helmet({ contentSecurityPolicy: { directives: { ...strict, styleSrc: ["'self'", "'unsafe-inline'"] } }, crossOriginEmbedderPolicy: false }),
  );
  const hsts = common['Strict-Transport-Security'];
  if (!hsts) throw new Error('helmet produced no Strict-Transport-Security header');
  delete common['Strict-Transport-Security'];
  delete docs['Strict-Transport-Security'];
  return { common, docs, hsts };
}

function headersOf(middleware: ReturnType<typeof helmet>): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string) => void (headers[name] = value),
    removeHeader: (name: string) => void delete headers[name],
  };
  middleware({} as never, response as never, () => undefined);
  if (Object.keys(headers).length === 0) throw new Error('helmet produced no headers');
  return headers;
}
