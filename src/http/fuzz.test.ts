/**
 * Fuzz test (security issue, "Done when"): at least 5,000 malformed requests, generated from a seeded
 * PRNG over every route of `app.routeAccess` (not a hand list) plus unknown paths under `/`, `/api` and
 * `/v1`, sent over raw sockets (node:http, so bodies and headers are exactly what we say): bad JSON,
 * JSON of the wrong type, deep nesting, huge strings, broken multipart, urlencoded garbage, wrong
 * content types, oversized bodies (declared and chunked), path traversal and unicode ids, huge and
 * negative numbers, duplicated query keys, missing fields, bad `Last-Event-ID`, bogus `X-Workspace-ID`,
 * no or garbage credentials, WebSocket upgrades with bad credentials. No answer may be a 5xx or log an
 * error, every 4xx must be the surface's own JSON error body (src/http/surfaces.ts), nothing may hang or
 * stay connected once the client is gone, no upgrade may succeed, and afterwards the server must be
 * healthy, its audit chain intact, and able to run an agent.
 *
 * Replay a failure with `AGENTOS_FUZZ_SEED=<seed printed by the run> npx vitest run src/http/fuzz.test.ts`.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger, startTestServer } from '../../test/helpers.js';
import type { RunningServer } from '../main.js';
import type { RegisteredRoute } from './plugins/access-control.js';
import type { Surface } from './surfaces.js';

const ADMIN_KEY = 'aos_fuzz_env_admin_key_0123456789abcdef';
const SEED = Number.parseInt(process.env.AGENTOS_FUZZ_SEED ?? '', 10) || 0x5eed_f022;
const TOTAL = 5_400;
const CONCURRENCY = 16;
const REQUEST_TIMEOUT_MS = 10_000;
const BODY_LIMIT = 64 * 1024;
/** Real agent runs the fuzzer may start on purpose; every other run request is invalid or names no agent. */
const VALID_RUN_BUDGET = 30;
/** Requests that try a WebSocket upgrade, all with a missing or wrong credential. */
const BAD_UPGRADES = 24;

// biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected field by field
type Json = any;

/** mulberry32: small, fast and deterministic for a given seed. */
class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(below: number): number {
    return Math.floor(this.next() * below);
  }
  chance(probability: number): boolean {
    return this.next() < probability;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  /** Picks a key of `weights` with probability proportional to its weight. */
  weighted<K extends string>(weights: Record<K, number>): K {
    const entries = Object.entries(weights) as [K, number][];
    let roll = this.next() * entries.reduce((sum, [, weight]) => sum + weight, 0);
    for (const [key, weight] of entries) {
      roll -= weight;
      if (roll < 0) return key;
    }
    return (entries.at(-1) as [K, number])[0];
  }
}

interface FuzzRequest {
  n: number;
  /** `METHOD /route/:pattern` or `unknown`. */
  route: string;
  method: string;
  /** Raw request target, query included, already percent-encoded where it must be. */
  path: string;
  headers: Record<string, string | string[]>;
  body?: Buffer;
  /** Send the body with `Transfer-Encoding: chunked` and no `Content-Length`. */
  chunked?: boolean;
  /** What the fuzzer did, for the failure report. */
  mutation: string;
}

interface Outcome {
  request: FuzzRequest;
  status?: number;
  headers?: IncomingHttpHeaders;
  body?: Buffer;
  error?: string;
  timedOut?: boolean;
  ms: number;
}

// ---------------------------------------------------------------------------------------------------
// Building blocks of malformed input
// ---------------------------------------------------------------------------------------------------

/** Percent-encodes every byte of the UTF-8 form outside the unreserved set (lone surrogates become U+FFFD). */
function enc(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

/** Path-segment values that are not ids: traversal, NUL, broken escapes, unicode, sizes, injections. */
const NASTY_SEGMENTS: readonly string[] = [
  '..',
  '.',
  '%2e%2e',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '..%2f..%2f..%2fetc%2fpasswd',
  '..%5c..%5cwindows',
  '%252e%252e%252f',
  '%c0%ae%c0%ae%c0%af',
  '%00',
  'alpha%00.json',
  '%',
  '%zz',
  '%E0%A4%A',
  '%F0%9F%98',
  '%ED%A0%80',
  '%FF%FE',
  enc('😀🔥💥'),
  enc('\u202Eevil\u202C'),
  enc('مرحبا'),
  enc('Z̴̡̙͍a̸̢̛l̷͈̓g̶̣̈o̵̤͝'),
  enc('e\u0301\u0302\u0303'),
  enc('\uFEFFalpha'),
  enc('ｃａｌｃ'),
  enc('a b'),
  enc('a/b'),
  enc("' OR 1=1 --"),
  enc('<script>alert(1)</script>'),
  enc(['$', '{jndi:ldap://x}'].join('')),
  '__proto__',
  'constructor',
  'prototype',
  'null',
  'undefined',
  'NaN',
  '-1',
  '0',
  '1e308',
  '9'.repeat(400),
  'x'.repeat(10_000),
  `a${'.'.repeat(127)}`,
  'a'.repeat(129),
  'ghost-agent',
  '00000000-0000-0000-0000-000000000000',
  'CON',
  'a:b:c',
];

/** Numeric-ish query values for `page`, `limit` and friends. */
const NASTY_NUMBERS: readonly string[] = [
  '0',
  '-1',
  '-0',
  '1.5',
  '-2.5',
  '1e308',
  '1e400',
  '-1e400',
  'Infinity',
  '-Infinity',
  'NaN',
  '9007199254740991',
  '9007199254740993',
  '99999999999999999999999999',
  '9'.repeat(400),
  '0x10',
  '0b11',
  '1_000',
  '%201',
  '',
  'abc',
  'null',
  '%00',
  '1000',
  '1001',
  '2147483648',
  '-9223372036854775809',
  enc('١٢٣'),
];

const NASTY_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  '\u0000\u0001\u0002',
  '😀'.repeat(50),
  '\u202E\u0645\u0631\u062D\u0628\u0627',
  'Z̴̡̙͍a̸̢̛l̷͈̓g̶̣̈o̵̤͝',
  '\uD800',
  '\uDFFF\uD800',
  '../../etc/passwd',
  "'; DROP TABLE sessions; --",
  'x'.repeat(300),
  'y'.repeat(60_000),
];

/** JSON values of every type, including ones no schema wants. */
function nastyValue(rng: Rng): unknown {
  switch (rng.int(16)) {
    case 0:
      return null;
    case 1:
      return rng.pick([0, -1, 1.5, -0, 1e308, -1e308, 2 ** 53 + 1, Number.MAX_VALUE, Number.MIN_VALUE]);
    case 2:
      return rng.chance(0.5);
    case 3:
      return [];
    case 4:
      return {};
    case 5:
      return [[[['nested']]]];
    case 6:
      return { $gt: '' };
    case 7:
      return rng.pick(NASTY_STRINGS);
    case 8:
      return nestedArray(1000);
    case 9:
      return nestedObject(rng.pick([1000, 5000]));
    case 10:
      return Array.from({ length: 2000 }, (_, index) => index);
    case 11:
      return 'true';
    case 12:
      return '-5';
    case 13:
      return { message: 'inner' };
    case 14:
      return ['what is 2+2?'];
    default:
      return Object.fromEntries(Array.from({ length: 500 }, (_, index) => [`k${index}`, index]));
  }
}

/**
 * JSON text spliced in verbatim by {@link toJson}: deep nesting is written as text because building it as a
 * value and calling `JSON.stringify` would overflow this process's stack before the server ever saw it.
 */
class RawJson {
  constructor(readonly text: string) {}
}

function nestedArray(depth: number): RawJson {
  return new RawJson(`${'['.repeat(depth)}"bottom"${']'.repeat(depth)}`);
}

function nestedObject(depth: number): RawJson {
  return new RawJson(`${'{"a":'.repeat(depth)}"bottom"${'}'.repeat(depth)}`);
}

/** `JSON.stringify` that inlines {@link RawJson} values. */
function toJson(value: unknown): string {
  const raw: string[] = [];
  const text = JSON.stringify(value, (_key, item: unknown) => {
    if (!(item instanceof RawJson)) return item;
    raw.push(item.text);
    return `@@raw${raw.length - 1}@@`;
  });
  return text.replace(/"@@raw(\d+)@@"/g, (_match, index: string) => raw[Number(index)] ?? 'null');
}

/** Bodies that are not JSON at all, or JSON broken in ways parsers have choked on. */
const MALFORMED_JSON: readonly string[] = [
  '{',
  '}',
  '{"message":',
  '{"message": "what is 2+2?"',
  '{"message": "x",}',
  "{'message': 'x'}",
  '{message: "x"}',
  '{"message": "x"}{"message": "y"}',
  '{"message": "x"} trailing',
  '{"message": "\\u00"}',
  '{"message": "\\x41"}',
  '{"message": NaN}',
  '{"message": Infinity}',
  '{"message": undefined}',
  '{"a":1e999999}',
  '[1, 2,',
  'nul',
  'tru',
  '"unterminated',
  '\u0000',
  '\uFEFF{"message":"bom"}',
  '\u00ff\u00fe{}',
  '{"__proto__": {"admin": true}}',
  '{"constructor": {"prototype": {"admin": true}}}',
  '{"message": "x", "__proto__": {"polluted": 1}}',
  '/* comment */ {}',
  '{"a":'.repeat(3000),
  '['.repeat(20_000),
  `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
  `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`,
  ' ',
  '\r\n\r\n',
  '<xml>not json</xml>',
  '-',
  '01',
  '{"message":"x","message":"y"}',
];

/** Content types that do not match the body, or are themselves broken. */
const WRONG_CONTENT_TYPES: readonly string[] = [
  'text/plain',
  'application/xml',
  'application/octet-stream',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/json;;;',
  'application/JSON',
  'application/json ; q=0.5',
  'application/jsonp',
  'application/x-www-form-urlencoded; charset=ebcdic',
  'multipart/form-data',
  'multipart/form-data; boundary=',
  'multipart/mixed; boundary=abc',
  'image/png',
  '*/*',
  '',
  ';',
  'application/',
  '/json',
  'text/event-stream',
];

const BOUNDARY = 'fuzzBoundary7MA4YWxkTrZu0gW';

/** Multipart bodies that break the format in different places. */
function brokenMultipart(rng: Rng): { type: string; body: string } {
  const part = (name: string, value: string) =>
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const choices: { type: string; body: string }[] = [
    { type: `multipart/form-data; boundary=${BOUNDARY}`, body: `${part('message', 'hi')}` },
    { type: `multipart/form-data; boundary=${BOUNDARY}`, body: '--wrongBoundary\r\n\r\nmessage\r\n--wrongBoundary--' },
    {
      type: `multipart/form-data; boundary=${BOUNDARY}`,
      body: `--${BOUNDARY}\r\nContent-Disposition: form-data; name="message"\r\n\r\nunterminated`,
    },
    {
      type: `multipart/form-data; boundary=${BOUNDARY}`,
      body: `--${BOUNDARY}\r\nno headers at all\r\n--${BOUNDARY}--`,
    },
    { type: `multipart/form-data; boundary=${BOUNDARY}`, body: '' },
    { type: 'multipart/form-data', body: `${part('message', 'hi')}--${BOUNDARY}--\r\n` },
    { type: 'multipart/form-data; boundary=', body: `${part('message', 'hi')}--${BOUNDARY}--\r\n` },
    { type: `multipart/form-data; boundary="${'b'.repeat(300)}"`, body: `--${'b'.repeat(300)}--\r\n` },
    {
      type: `multipart/form-data; boundary=${BOUNDARY}`,
      body: `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="../../etc/passwd"\r\nContent-Type: application/octet-stream\r\n\r\n${'\u0000'.repeat(100)}\r\n--${BOUNDARY}--\r\n`,
    },
    {
      type: `multipart/form-data; boundary=${BOUNDARY}`,
      body: `${Array.from({ length: 300 }, (_, index) => part(`f${index}`, 'v')).join('')}--${BOUNDARY}--\r\n`,
    },
    {
      type: `multipart/form-data; boundary=${BOUNDARY}`,
      body: `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${enc('😀')}\u0000"\r\n\r\n\u00ff\r\n--${BOUNDARY}--\r\n`,
    },
    {
      type: `multipart/form-data; boundary=${BOUNDARY}`,
      body: `${part('__proto__', 'x')}${part('message', '   ')}--${BOUNDARY}--\r\n`,
    },
    {
      type: `multipart/form-data; boundary=${BOUNDARY}`,
      body: `${part('stream', 'perhaps')}${part('message', '')}--${BOUNDARY}--\r\n`,
    },
  ];
  return rng.pick(choices);
}

/** Urlencoded bodies: broken escapes, duplicated and array keys, empty names. */
const URLENCODED_GARBAGE: readonly string[] = [
  'a=%zz&&&=&message',
  'message=%',
  'message=%E0%A4%A',
  'message[]=x&message[]=y',
  'message=&message=',
  'message=%20%20%20',
  'message[a][b][c]=1',
  'stream=maybe&message=',
  'background=2&message=',
  '__proto__[admin]=true&message=',
  'constructor[prototype][admin]=1',
  '=&=&=',
  '&&&&',
  `message=${'%00'.repeat(100)}`,
  `${'k=v&'.repeat(5000)}`,
  'last_event_index=abc',
  'last_event_index=1e400',
  'session_name=',
  'session_ids=a&session_ids=b',
  '{"message":"json in a form"}',
];

const BAD_WORKSPACES: readonly (string | string[])[] = [
  '',
  ' ',
  '../default',
  '..',
  'a b',
  '-x',
  'x'.repeat(300),
  '%00',
  '\u00e9t\u00e9',
  'default,w2',
  ['default', 'w2'],
  'w2',
  'default',
  'null',
  '*',
];

const BAD_LAST_EVENT_IDS: readonly string[] = [
  '-2',
  '-1',
  '0',
  'abc',
  '1.5',
  '1e400',
  '9'.repeat(400),
  '',
  'NaN',
  '0x1f',
  '-Infinity',
  '9007199254740993',
  '\u00ff',
  '1,2',
];

const FORGED_JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4Iiwic2NvcGVzIjpbImFkbWluIl19.c2lnbmF0dXJl';
const NONE_JWT = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4Iiwic2NvcGVzIjpbImFkbWluIl19.';

const BAD_AUTHORIZATIONS: readonly string[] = [
  'Bearer',
  'Bearer ',
  'Bearer aos_not_a_real_key',
  `Bearer ${ADMIN_KEY}x`,
  `Bearer ${ADMIN_KEY.slice(0, -1)}`,
  `Bearer ${ADMIN_KEY} extra`,
  `Token ${ADMIN_KEY}`,
  `Basic ${Buffer.from(`admin:${ADMIN_KEY}`).toString('base64')}`,
  `Bearer ${FORGED_JWT}`,
  `Bearer ${NONE_JWT}`,
  `Bearer ${'a'.repeat(8000)}`,
  `Bearer ${ADMIN_KEY}\u00ff`,
  'Bearer \u00e9\u00e8',
  'Bearer null',
  'Bearer undefined',
  'Bearer ../../etc/passwd',
  `Bearer ${'.'.repeat(100)}`,
];

/** Paths no route declares, under every surface prefix. */
const UNKNOWN_PATHS: readonly string[] = [
  '/',
  '/api',
  '/api/',
  '/v1',
  '/v1/',
  '/v1/chat/completions',
  '/v1/models',
  '/v1/responses',
  '/api/agents',
  '/api/runs/x',
  '/api/health/extra',
  '/api/security',
  '/api/security/audit/verify/extra',
  '/nope',
  '/agents/calc/runs/x/y/z',
  '/../../etc/passwd',
  '/%2e%2e/%2e%2e/etc/passwd',
  '/api/%2e%2e/%2e%2e/health',
  '/api/../config',
  '/v1/../../config',
  '/v1/%00',
  '/api/%00',
  `/${enc('😀')}`,
  `/api/${enc('\u202Egnp.exe')}`,
  `/v1/${enc('Z̴̡̙a̸l̷g̶o̵')}`,
  `/${'x'.repeat(10_000)}`,
  `/api/${'y'.repeat(10_000)}`,
  `/v1/${'z'.repeat(10_000)}`,
  '/agents/%',
  '/sessions/%zz/runs',
  '/%',
  '//',
  '///api',
  '/agents//runs',
  '/docs',
  '/docs/static/..%2f..%2fpackage.json',
  '/docs/static/%2e%2e',
  '/docs/static/swagger-ui.css',
  '/openapi.json',
  '/health/../info',
  '/databases/..%2fall/migrate',
  '/ws/agents',
  '/ws',
];

const ALL_METHODS: readonly string[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];
const ODD_METHODS: readonly string[] = ['TRACE', 'PROPFIND', 'SEARCH', 'REPORT', 'LOCK', 'PURGE', 'COPY'];

// ---------------------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------------------

/** Valid ids that exist (or are at least well-formed) for each path parameter name. */
interface Known {
  agents: string[];
  sessions: string[];
  runs: string[];
}

/** A valid body for each route that takes one; the fuzzer mutates these. */
function template(routeKey: string, known: Known, rng: Rng): Record<string, unknown> {
  switch (routeKey) {
    case 'POST /agents/:agent_id/runs':
      return { message: 'what is 2+2?', stream: rng.chance(0.3), user_id: 'fuzz-user' };
    case 'POST /agents/:agent_id/runs/:run_id/resume':
      return { last_event_index: 0, session_id: rng.pick(known.sessions) };
    case 'POST /sessions':
      return {
        agent_id: rng.pick(known.agents),
        session_name: 'fuzz',
        session_state: { step: 1 },
        metadata: { source: 'fuzz' },
        ...(rng.chance(0.3) ? { session_id: rng.pick(known.sessions) } : {}),
      };
    case 'POST /sessions/:session_id/rename':
      return { session_name: 'renamed by fuzz' };
    case 'PATCH /sessions/:session_id':
      return { session_name: 'patched', session_state: { a: 1 }, metadata: { b: 2 } };
    case 'DELETE /sessions':
      return { session_ids: ['missing-session', 'another-missing'], session_types: ['agent'] };
    default:
      return {};
  }
}

/** Fills the route's path params: mostly real ids, often nasty ones. */
function fillPath(route: RegisteredRoute, known: Known, rng: Rng, realAgent: boolean | undefined): string {
  return route.url
    .replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, (_match, name: string) => {
      if (name === 'agent_id' && realAgent !== undefined) {
        return realAgent ? rng.pick(known.agents) : rng.pick(['ghost-agent', rng.pick(NASTY_SEGMENTS)]);
      }
      if (rng.chance(0.45)) return rng.pick(NASTY_SEGMENTS);
      switch (name) {
        case 'agent_id':
          return rng.pick(known.agents);
        case 'session_id':
          return rng.pick(known.sessions);
        case 'run_id':
          return rng.pick(known.runs);
        case 'db_id':
          return rng.pick(['default', 'other']);
        default:
          return `${name}-1`;
      }
    })
    .replace(/\*$/, () => rng.pick(['x', '..%2f..%2fetc', enc('😀')]));
}

const QUERY_KEYS: readonly string[] = [
  'page',
  'limit',
  'session_id',
  'status',
  'type',
  'component_id',
  'agent_id',
  'user_id',
  'sort_order',
  'kind',
  'order',
  'token',
  '__proto__',
  'constructor',
  'page[]',
  'limit[x]',
  'stream',
  '',
];

function queryValue(rng: Rng, key: string): string {
  if (key === 'page' || key === 'limit' || rng.chance(0.15)) return rng.pick(NASTY_NUMBERS);
  if (rng.chance(0.5)) return rng.pick(NASTY_SEGMENTS);
  return enc(rng.pick(NASTY_STRINGS).slice(0, 2000));
}

/** A query string with nasty values, duplicated keys and sometimes no value at all. */
function nastyQuery(rng: Rng): string {
  const pairs: string[] = [];
  for (let index = rng.int(4) + 1; index > 0; index -= 1) {
    const key = rng.pick(QUERY_KEYS);
    const repeats = rng.chance(0.2) ? rng.int(3) + 2 : 1;
    for (let copy = 0; copy < repeats; copy += 1) {
      pairs.push(rng.chance(0.05) ? key : `${key}=${queryValue(rng, key)}`);
    }
  }
  if (rng.chance(0.05)) pairs.push('&&', '=', '%zz=%zz');
  return pairs.join('&');
}

type BodyMutation =
  | 'none'
  | 'empty-json'
  | 'malformed-json'
  | 'wrong-top-level'
  | 'wrong-field'
  | 'missing-fields'
  | 'extra-fields'
  | 'deep'
  | 'huge-string'
  | 'multipart'
  | 'urlencoded'
  | 'wrong-content-type'
  | 'oversized-declared'
  | 'oversized-chunked'
  | 'chunked-small';

const BODY_WEIGHTS: Record<BodyMutation, number> = {
  none: 4,
  'empty-json': 4,
  'malformed-json': 14,
  'wrong-top-level': 8,
  'wrong-field': 16,
  'missing-fields': 8,
  'extra-fields': 6,
  deep: 5,
  'huge-string': 4,
  multipart: 8,
  urlencoded: 7,
  'wrong-content-type': 8,
  'oversized-declared': 4,
  'oversized-chunked': 3,
  'chunked-small': 3,
};

/** Run-request mutations that can never yield a valid run (the message is never a usable string). */
const RUN_SAFE_WEIGHTS: Partial<Record<BodyMutation, number>> = {
  none: 4,
  'empty-json': 4,
  'malformed-json': 14,
  'wrong-top-level': 8,
  'wrong-field': 16,
  'missing-fields': 8,
  multipart: 8,
  urlencoded: 7,
  'wrong-content-type': 6,
  'oversized-declared': 4,
  'oversized-chunked': 3,
};

/** `message` values the run schema refuses (not a string, blank, or a string over 200,000 chars). */
function invalidMessage(rng: Rng): unknown {
  return rng.pick<unknown>([
    null,
    0,
    -1,
    1e308,
    true,
    [],
    {},
    ['what is 2+2?'],
    { text: 'what is 2+2?' },
    '',
    '   ',
    '\n\t ',
    nestedArray(1000),
    nestedObject(1000),
  ]);
}

interface BuiltBody {
  body?: Buffer;
  type?: string;
  chunked?: boolean;
  mutation: string;
}

function buildBody(rng: Rng, routeKey: string, known: Known, mutation: BodyMutation, runSafe: boolean): BuiltBody {
  const json = (value: unknown, label: string): BuiltBody => ({
    body: Buffer.from(toJson(value)),
    type: 'application/json',
    mutation: label,
  });
  const base = template(routeKey, known, rng);
  // A run request on a real agent must not start a run: it never carries a usable message.
  if (runSafe) delete base.message;
  const fields =
    runSafe || Object.keys(base).length === 0
      ? ['message', ...Object.keys(base), 'session_ids', 'session_name']
      : Object.keys(base);
  switch (mutation) {
    case 'none':
      return rng.chance(0.5) ? { mutation: 'no body' } : { type: 'application/json', mutation: 'no body, json type' };
    case 'empty-json':
      return { body: Buffer.alloc(0), type: 'application/json', mutation: 'empty json' };
    case 'malformed-json': {
      // Some of these parse after all (a leading BOM is stripped, a repeated key wins): no message on real agents.
      const text = runSafe ? rng.pick(MALFORMED_JSON).replaceAll('"message"', '"msg"') : rng.pick(MALFORMED_JSON);
      return { body: Buffer.from(text, 'utf8'), type: 'application/json', mutation: `malformed json ${snippet(text)}` };
    }
    case 'wrong-top-level': {
      const value = rng.pick<unknown>([
        [],
        [base],
        42,
        -1e308,
        'a string',
        null,
        true,
        nestedArray(1000),
        nestedObject(1000),
      ]);
      return json(value, 'wrong top-level type');
    }
    case 'wrong-field': {
      const field = rng.pick(fields);
      const value = runSafe && field === 'message' ? invalidMessage(rng) : nastyValue(rng);
      return json({ ...base, [field]: value }, `wrong type for ${field}`);
    }
    case 'missing-fields': {
      const body = { ...base };
      const drop = rng.chance(0.5) ? fields : [rng.pick(fields)];
      for (const field of drop) delete body[field];
      return json(body, `missing ${drop.join(',')}`);
    }
    case 'extra-fields': {
      const body: Record<string, unknown> = { ...base, unexpected: nastyValue(rng), [rng.pick(NASTY_STRINGS)]: 1 };
      return json(body, 'extra fields');
    }
    case 'deep': {
      const field = rng.pick(['session_state', 'metadata', ...fields]);
      const depth = rng.pick([1000, 5000, 10_000]);
      return json({ ...base, [field]: rng.chance(0.5) ? nestedObject(depth) : nestedArray(depth) }, `depth ${depth}`);
    }
    case 'huge-string': {
      const field = rng.pick(fields);
      const size = rng.pick([10_000, 60_000, BODY_LIMIT - 200]);
      return json({ ...base, [field]: 'h'.repeat(size) }, `${size}-char ${field}`);
    }
    case 'multipart': {
      const broken = brokenMultipart(rng);
      const { type } = broken;
      const body = runSafe ? broken.body.replaceAll('name="message"', 'name="msg"') : broken.body;
      return { body: Buffer.from(body, 'latin1'), type, mutation: `multipart ${snippet(body)}` };
    }
    case 'urlencoded': {
      const text = runSafe ? rng.pick(URLENCODED_GARBAGE).replaceAll('message', 'msg') : rng.pick(URLENCODED_GARBAGE);
      return { body: Buffer.from(text), type: 'application/x-www-form-urlencoded', mutation: `form ${snippet(text)}` };
    }
    case 'wrong-content-type': {
      const text = runSafe ? toJson({ ...base, message: invalidMessage(rng) }) : JSON.stringify(base);
      return { body: Buffer.from(text), type: rng.pick(WRONG_CONTENT_TYPES), mutation: 'wrong content type' };
    }
    case 'oversized-declared':
    case 'oversized-chunked': {
      const size = BODY_LIMIT + 1 + rng.int(3 * BODY_LIMIT);
      const filler = 'o'.repeat(size);
      const text = rng.chance(0.5) ? JSON.stringify({ ...base, filler }) : filler;
      const type = rng.pick([
        'application/json',
        'application/x-www-form-urlencoded',
        `multipart/form-data; boundary=${BOUNDARY}`,
        'text/plain',
      ]);
      const chunked = mutation === 'oversized-chunked';
      return { body: Buffer.from(text), type, chunked, mutation: `${size}-byte body${chunked ? ', chunked' : ''}` };
    }
    case 'chunked-small': {
      const text = toJson(runSafe ? { ...base, message: invalidMessage(rng) } : base);
      return { body: Buffer.from(text), type: 'application/json', chunked: true, mutation: 'small chunked body' };
    }
  }
}

/** A body that starts exactly one real run (JSON, form or multipart; blocking, streamed or background). */
function validRunBody(rng: Rng): BuiltBody {
  const message = rng.pick(['what is 2+2?', 'what is 12*7?', 'hello']);
  switch (rng.int(4)) {
    case 0:
      return {
        body: Buffer.from(JSON.stringify({ message, stream: true })),
        type: 'application/json',
        mutation: 'valid run (stream)',
      };
    case 1:
      return {
        body: Buffer.from(`message=${enc(message)}&background=true`),
        type: 'application/x-www-form-urlencoded',
        mutation: 'valid run (form, background)',
      };
    case 2:
      return {
        body: Buffer.from(
          `--${BOUNDARY}\r\nContent-Disposition: form-data; name="message"\r\n\r\n${message}\r\n--${BOUNDARY}--\r\n`,
        ),
        type: `multipart/form-data; boundary=${BOUNDARY}`,
        mutation: 'valid run (multipart)',
      };
    default:
      return {
        body: Buffer.from(JSON.stringify({ message })),
        type: 'application/json',
        mutation: 'valid run (json)',
      };
  }
}

function snippet(text: string, length = 60): string {
  const flat = JSON.stringify(text.length > length ? `${text.slice(0, length)}…(${text.length})` : text);
  return flat;
}

function authHeaders(rng: Rng): { headers: Record<string, string>; query?: string; label: string } {
  const roll = rng.next();
  if (roll < 0.78) return { headers: { authorization: `Bearer ${ADMIN_KEY}` }, label: 'admin' };
  if (roll < 0.8) return { headers: { authorization: `bearer\t${ADMIN_KEY}` }, label: 'admin (odd spelling)' };
  if (roll < 0.88) return { headers: {}, label: 'anonymous' };
  if (roll < 0.97) {
    const authorization = rng.pick(BAD_AUTHORIZATIONS);
    return { headers: { authorization }, label: `bad token ${snippet(authorization, 30)}` };
  }
  return { headers: {}, query: `token=${enc(rng.pick(['aos_nope', ADMIN_KEY.slice(1), '']))}`, label: 'token query' };
}

/** One request for `route` (or an unknown path when `route` is undefined). */
function generate(
  n: number,
  rng: Rng,
  routes: RegisteredRoute[],
  known: Known,
  budget: { validRuns: number },
): FuzzRequest {
  const headers: Record<string, string | string[]> = {};
  const notes: string[] = [];
  const auth = authHeaders(rng);
  Object.assign(headers, auth.headers);
  notes.push(auth.label);

  let route: RegisteredRoute | undefined;
  let method: string;
  let path: string;
  let routeKey = 'unknown';
  let realAgent: boolean | undefined;
  if (rng.chance(0.85)) {
    route = rng.pick(routes);
    routeKey = `${route.method} ${route.url}`;
    method = route.method;
    if (routeKey === 'POST /agents/:agent_id/runs') realAgent = rng.chance(0.35);
    path = fillPath(route, known, rng, realAgent);
    if (method === 'GET' && rng.chance(0.08)) method = 'HEAD';
    if (rng.chance(0.03)) method = rng.pick(ALL_METHODS.filter((other) => other !== route?.method));
  } else {
    path = rng.pick(UNKNOWN_PATHS);
    method = rng.chance(0.9) ? rng.pick(ALL_METHODS) : rng.pick(ODD_METHODS);
  }

  const queries: string[] = [];
  if (auth.query) queries.push(auth.query);
  if (rng.chance(method === 'GET' || method === 'HEAD' ? 0.6 : 0.25)) queries.push(nastyQuery(rng));
  else if (rng.chance(0.1)) queries.push('page=1&limit=1000');
  // Node rejects a request line past ~16 KB before any route sees it; stay under it.
  let query = queries.join('&');
  if (path.length + query.length > 12_000) query = '';
  if (query !== '') path = `${path}?${query}`;
  if (rng.chance(0.03)) path = `${path}#${rng.pick(['fragment', '..%2f', enc('😀')])}`;

  if (rng.chance(0.12)) {
    headers['x-workspace-id'] = rng.pick(BAD_WORKSPACES);
    notes.push(`workspace ${snippet(String(headers['x-workspace-id']), 20)}`);
  }
  if (routeKey.includes('/resume') ? rng.chance(0.7) : rng.chance(0.05)) {
    headers['last-event-id'] = rng.pick(BAD_LAST_EVENT_IDS);
    notes.push(`last-event-id ${snippet(String(headers['last-event-id']), 20)}`);
  }
  if (rng.chance(0.05)) headers['x-request-id'] = rng.pick(['x'.repeat(500), '\u00ff\u00fe', '../../', 'a\tb', '']);
  if (rng.chance(0.05)) headers.accept = rng.pick(['text/event-stream', 'application/xml', '*/*;q=0', '\u00ff']);
  if (rng.chance(0.02)) headers['content-encoding'] = rng.pick(['gzip', 'br', 'deflate', 'identity, gzip', 'x']);
  if (rng.chance(0.03)) {
    headers.origin = rng.pick(['https://evil.example', 'null', '\u00ff']);
    if (method === 'OPTIONS') headers['access-control-request-method'] = rng.pick(['POST', 'DELETE', 'FOO', '']);
  }
  if (rng.chance(0.02)) headers.expect = '100-continue';

  let body: BuiltBody = { mutation: 'no body' };
  const takesBody = !['GET', 'HEAD', 'OPTIONS'].includes(method);
  if (routeKey === 'POST /agents/:agent_id/runs' && method === 'POST') {
    if (realAgent && budget.validRuns > 0 && rng.chance(0.4)) {
      budget.validRuns -= 1;
      body = validRunBody(rng);
    } else {
      body = buildBody(
        rng,
        routeKey,
        known,
        rng.weighted(realAgent ? (RUN_SAFE_WEIGHTS as Record<BodyMutation, number>) : BODY_WEIGHTS),
        realAgent === true,
      );
    }
  } else if (takesBody || rng.chance(0.05)) {
    body = buildBody(rng, routeKey, known, rng.weighted(BODY_WEIGHTS), false);
  }
  if (body.type !== undefined) headers['content-type'] = body.type;
  notes.push(body.mutation);
  // Node answers 431 itself, before any route or hook, past 16 KB of request line and headers: stay below.
  const headerBytes = () =>
    path.length + Object.entries(headers).reduce((sum, [name, value]) => sum + name.length + String(value).length, 0);
  if (headerBytes() > 14_000 && String(headers.authorization ?? '').length > 1000) {
    headers.authorization = 'Bearer aos_not_a_real_key';
  }
  if (headerBytes() > 14_000) path = path.split('?')[0] ?? path;
  // Two long path parameters can still pass the limit on their own: shorten each to 4 KB.
  if (headerBytes() > 14_000) {
    path = path
      .split('/')
      .map((segment) => (segment.length > 4000 ? segment.slice(0, 4000) : segment))
      .join('/');
  }

  return {
    n,
    route: routeKey,
    method,
    path,
    headers,
    ...(body.body === undefined ? {} : { body: body.body }),
    ...(body.chunked ? { chunked: true } : {}),
    mutation: notes.join('; '),
  };
}

/** A WebSocket upgrade with a missing or wrong credential: it must be refused, never upgraded. */
function badUpgrade(n: number, rng: Rng, known: Known): FuzzRequest {
  const agent = rng.chance(0.7) ? rng.pick(known.agents) : rng.pick(NASTY_SEGMENTS);
  const headers: Record<string, string> = {
    connection: 'Upgrade',
    upgrade: 'websocket',
    'sec-websocket-version': '13',
    'sec-websocket-key': Buffer.from(Array.from({ length: 16 }, () => rng.int(256))).toString('base64'),
  };
  let path = `/ws/agents/${agent}`;
  const how = rng.int(3);
  if (how === 0) path += `?token=${enc(rng.pick(['aos_nope', FORGED_JWT, '', 'x'.repeat(2000)]))}`;
  if (how === 1) headers.authorization = rng.pick(BAD_AUTHORIZATIONS);
  return {
    n,
    route: 'GET /ws/agents/:agent_id',
    method: 'GET',
    path,
    headers,
    mutation: `websocket upgrade, ${['bad ?token=', 'bad authorization', 'no credential'][how]}`,
  };
}

// ---------------------------------------------------------------------------------------------------
// The sender and the checks
// ---------------------------------------------------------------------------------------------------

function send(base: URL, request: FuzzRequest): Promise<Outcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (outcome: Omit<Outcome, 'request' | 'ms'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ request, ms: performance.now() - started, ...outcome });
    };
    const headers: Record<string, string | string[]> = { ...request.headers };
    // Node only chunk-encodes POST/PUT/PATCH on its own; naming the encoding makes it frame every method's body.
    if (request.body !== undefined) {
      if (request.chunked) headers['transfer-encoding'] = 'chunked';
      else headers['content-length'] = String(request.body.length);
    }
    let req: http.ClientRequest;
    try {
      req = http.request({
        host: base.hostname,
        port: base.port,
        method: request.method,
        path: request.path,
        headers,
        agent: false,
      });
    } catch (error) {
      finish({ error: `client refused to send: ${(error as Error).message}` });
      return;
    }
    timer = setTimeout(() => {
      finish({ timedOut: true, error: `no complete answer in ${REQUEST_TIMEOUT_MS} ms` });
      req.destroy();
    }, REQUEST_TIMEOUT_MS);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => finish({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', (error) =>
        finish({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), error: error.message }),
      );
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      finish({ status: res.statusCode ?? 101, headers: res.headers, body: Buffer.alloc(0) });
    });
    req.on('error', (error) => finish({ error: `${(error as NodeJS.ErrnoException).code ?? ''} ${error.message}` }));
    if (request.body === undefined) {
      req.end();
    } else if (request.chunked) {
      // Several writes without a length: Node sends `Transfer-Encoding: chunked`.
      const body = request.body;
      const step = 16 * 1024;
      for (let offset = 0; offset < body.length; offset += step) req.write(body.subarray(offset, offset + step));
      req.end();
    } else {
      req.end(request.body);
    }
  });
}

/** Runs `requests` with at most `concurrency` in flight. */
async function sendAll(base: URL, requests: FuzzRequest[], concurrency: number): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array(requests.length);
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const index = next;
      next += 1;
      outcomes[index] = await send(base, requests[index] as FuzzRequest);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return outcomes;
}

/** The surface whose error body a path gets: `/api…` → api, `/v1…` → openai, anything else → root. */
function surfaceOf(path: string): Surface {
  const pathname = path.split(/[?#]/)[0] ?? '';
  if (/^\/api(\/|$)/.test(pathname)) return 'api';
  if (/^\/v1(\/|$)/.test(pathname)) return 'openai';
  return 'root';
}

/** Why a 4xx answer is not a JSON error body in the surface's shape, or undefined when it is. */
function shapeProblem(outcome: Outcome): string | undefined {
  const { status, request } = outcome;
  if (status === undefined || status < 400 || status >= 500 || request.method === 'HEAD') return undefined;
  const type = String(outcome.headers?.['content-type'] ?? '');
  if (!type.startsWith('application/json')) return `content-type "${type}"`;
  let body: Json;
  try {
    body = JSON.parse(outcome.body?.toString('utf8') ?? '');
  } catch {
    return 'body is not JSON';
  }
  // The surface's own error handler wrote it (src/http/surfaces.ts): an AOS_ code and the request id,
  // not a framework or plugin default that happens to share a field name.
  const surface = surfaceOf(request.path);
  if (surface === 'root') {
    const detailOk = typeof body?.detail === 'string' || Array.isArray(body?.detail);
    return detailOk && /^AOS_/.test(String(body?.code)) && typeof body?.request_id === 'string'
      ? undefined
      : 'root body is not {detail, code: AOS_…, request_id}';
  }
  if (surface === 'api') {
    return typeof body?.error === 'string' && /^AOS_/.test(String(body?.code)) && typeof body?.request_id === 'string'
      ? undefined
      : '/api body is not {error: string, code: AOS_…, request_id}';
  }
  return typeof body?.error?.message === 'string' && /^AOS_/.test(String(body?.error?.code))
    ? undefined
    : '/v1 body is not {error: {message, type, code: AOS_…}}';
}

function describeOutcome(outcome: Outcome): string {
  const { request } = outcome;
  const body = request.body === undefined ? '' : ` body=${snippet(request.body.toString('latin1'), 120)}`;
  const answer = outcome.body === undefined ? '' : ` answer=${snippet(outcome.body.toString('utf8'), 200)}`;
  const headers = JSON.stringify(request.headers, (_key, value) =>
    typeof value === 'string' && value.length > 80 ? `${value.slice(0, 80)}…(${value.length})` : value,
  );
  return (
    `#${request.n} ${request.method} ${snippet(request.path, 160)} [${request.route}] status=${outcome.status ?? '-'}` +
    `${outcome.error ? ` error=${outcome.error}` : ''} (${request.mutation}) headers=${headers}${body}${answer}`
  );
}

/** Sockets the server holds, upgraded ones included. */
function openConnections(server: RunningServer): Promise<number> {
  return new Promise((resolve, reject) =>
    server.app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  );
}

// ---------------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------------

describe('fuzzing every route with malformed requests', () => {
  let server: RunningServer;
  let logs: () => Record<string, unknown>[];
  const known: Known = { agents: ['calc', 'plain'], sessions: [], runs: [] };
  const admin = { authorization: `Bearer ${ADMIN_KEY}` };

  beforeAll(async () => {
    const memory = memoryLogger('warn');
    logs = memory.lines;
    server = await startTestServer({
      env: { AGENTOS_API_KEY: ADMIN_KEY },
      logger: memory.logger,
      config: {
        server: { body_limit: '64kb' },
        agents: [
          { id: 'calc', name: 'Calculator', model: 'local:default', tools: ['calculator'] },
          { id: 'plain', model: 'local:default' },
        ],
      },
    });
    // A few real objects, so many fuzzed ids name something that exists.
    for (const agent of known.agents) {
      const response = await fetch(`${server.url}/agents/${agent}/runs`, {
        method: 'POST',
        headers: { ...admin, 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'what is 3*3?' }),
      });
      expect(response.status).toBe(200);
      const run = (await response.json()) as Json;
      known.sessions.push(run.session_id);
      known.runs.push(run.run_id);
    }
    const session = await fetch(`${server.url}/sessions`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ agent_id: 'calc', session_id: 'fuzz-session', session_name: 'seeded' }),
    });
    expect(session.status).toBe(201);
    known.sessions.push('fuzz-session');
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers ≥ 5,000 malformed requests without a 5xx, a hang or an off-surface error body', async () => {
    const connectionsBefore = await openConnections(server);
    const started = performance.now();
    const routes = server.app.routeAccess;
    expect(routes.length).toBeGreaterThanOrEqual(20);
    const rng = new Rng(SEED);
    const budget = { validRuns: VALID_RUN_BUDGET };
    const requests: FuzzRequest[] = [];
    for (let n = 0; n < TOTAL; n += 1) {
      requests.push(
        n % Math.floor(TOTAL / BAD_UPGRADES) === 0
          ? badUpgrade(n, rng, known)
          : generate(n, rng, routes, known, budget),
      );
    }
    const outcomes = await sendAll(new URL(server.url), requests, CONCURRENCY);
    const seconds = (performance.now() - started) / 1000;

    // Every fuzz socket is closed by now on the client side; the server must let go of them too.
    let connectionsAfter = await openConnections(server);
    for (let waited = 0; connectionsAfter > connectionsBefore && waited < 2000; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      connectionsAfter = await openConnections(server);
    }

    // The report: what was sent and what came back.
    const histogram: Record<string, number> = {};
    for (const outcome of outcomes) {
      const key = outcome.timedOut ? 'hang' : outcome.status === undefined ? 'no answer' : String(outcome.status);
      histogram[key] = (histogram[key] ?? 0) + 1;
    }
    const perRoute = new Map<string, number>();
    for (const request of requests) perRoute.set(request.route, (perRoute.get(request.route) ?? 0) + 1);
    console.log(
      `fuzz seed=${SEED} (AGENTOS_FUZZ_SEED) requests=${outcomes.length} routes=${routes.length} ` +
        `valid runs=${VALID_RUN_BUDGET - budget.validRuns} time=${seconds.toFixed(1)}s`,
    );
    console.log(`fuzz status histogram ${JSON.stringify(histogram)}`);
    console.log(`fuzz server connections before=${connectionsBefore} after=${connectionsAfter}`);
    let runsCreated = 0;
    for (const workspaceId of ['default', 'w2']) {
      runsCreated += (await server.services.store.runs.list({ workspaceId, limit: 1 })).total;
    }
    console.log(`fuzz runs stored=${runsCreated} (2 seeded, ${VALID_RUN_BUDGET - budget.validRuns} valid on purpose)`);
    console.log(`fuzz requests per route ${JSON.stringify(Object.fromEntries(perRoute))}`);

    const serverErrors = outcomes.filter((outcome) => (outcome.status ?? 0) >= 500);
    const hangs = outcomes.filter((outcome) => outcome.timedOut);
    const unanswered = outcomes.filter((outcome) => outcome.status === undefined && !outcome.timedOut);
    const upgraded = outcomes.filter((outcome) => outcome.status === 101);
    const offShape = outcomes.flatMap((outcome) => {
      const problem = shapeProblem(outcome);
      return problem === undefined ? [] : [{ outcome, problem }];
    });
    for (const outcome of serverErrors) console.error(`5xx: ${describeOutcome(outcome)}`);
    for (const outcome of hangs) console.error(`HANG: ${describeOutcome(outcome)}`);
    for (const outcome of unanswered) console.error(`NO ANSWER: ${describeOutcome(outcome)}`);
    for (const outcome of upgraded) console.error(`UPGRADED WITHOUT CREDENTIALS: ${describeOutcome(outcome)}`);
    for (const { outcome, problem } of offShape) console.error(`OFF-SURFACE (${problem}): ${describeOutcome(outcome)}`);
    const failures = logs().filter((line) => line.msg === 'request failed' || Number(line.level) >= 50);
    for (const line of failures) console.error(`server log: ${JSON.stringify(line).slice(0, 2000)}`);

    expect(outcomes.length).toBeGreaterThanOrEqual(5000);
    // The fuzzer itself: runs only where it meant to start one.
    expect(runsCreated).toBeLessThanOrEqual(2 + VALID_RUN_BUDGET - budget.validRuns);
    expect(new Set(requests.map((request) => request.route))).toEqual(
      new Set([...routes.map((route) => `${route.method} ${route.url}`), 'unknown']),
    );
    // Soft: one failing category must not hide the others.
    expect.soft(serverErrors.map(describeOutcome), '5xx answers').toEqual([]);
    expect.soft(hangs.map(describeOutcome), 'hangs').toEqual([]);
    expect.soft(unanswered.map(describeOutcome), 'requests without an answer').toEqual([]);
    expect.soft(upgraded.map(describeOutcome), 'upgrades without credentials').toEqual([]);
    expect
      .soft(
        offShape.map(({ outcome, problem }) => `${problem}: ${describeOutcome(outcome)}`),
        '4xx bodies off the surface shape',
      )
      .toEqual([]);
    expect.soft(failures, 'server error logs').toEqual([]);
    expect
      .soft(connectionsAfter, 'server sockets still open after every client closed')
      .toBeLessThanOrEqual(connectionsBefore);
  }, 90_000);

  it('is healthy afterwards and still runs an agent', async () => {
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    const apiHealth = await fetch(`${server.url}/api/health`);
    expect(apiHealth.status).toBe(200);
    expect(((await apiHealth.json()) as Json).services.db.status).toBe('healthy');
    // Hundreds of concurrent auth failures were appended to the audit chain; it must still verify.
    const audit = await fetch(`${server.url}/api/security/audit/verify`, { headers: admin });
    expect(audit.status).toBe(200);
    expect(await audit.json()).toMatchObject({ valid: true, violations: [] });
    const response = await fetch(`${server.url}/agents/calc/runs`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'what is 2+2?' }),
    });
    expect(response.status).toBe(200);
    const run = (await response.json()) as Json;
    expect(run.status).toBe('completed');
    expect(run.content).toContain('4');
    expect(run.tools?.[0]).toMatchObject({ tool_name: 'calculator' });
  }, 20_000);
});
