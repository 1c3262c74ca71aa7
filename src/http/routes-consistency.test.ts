/**
 * Meta-test of the route table (STYLE.md §6, after Mastra's `schema-consistency.test.ts`): every
 * route of the real app is documented, names its path params in a schema, is declared once, and
 * declares who may call it, which real unauthenticated requests then confirm.
 */
import type { RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { buildTestApp, type TestApp } from '../../test/helpers.js';

// The app is built inside buildApp(), so the only way to see each route as registered (URL with its
// prefix, config and schema, hidden routes included) is an onRoute hook added right after the root
// instance is created, before any plugin or route.
const collected = vi.hoisted(() => ({ routes: [] as RouteOptions[] }));
vi.mock('fastify', async (importOriginal) => {
  const actual = await importOriginal<typeof import('fastify')>();
  const create = ((options?: Parameters<typeof actual.default>[0]) => {
    const app = actual.default(options);
    app.addHook('onRoute', (route) => {
      collected.routes.push(route);
    });
    return app;
  }) as typeof actual.default;
  return { ...actual, default: create };
});

/** One method of one registered route. */
interface RouteEntry {
  method: string;
  url: string;
  route: RouteOptions;
}

interface Operation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  parameters?: { in: string; name: string; required?: boolean }[];
}

interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
}

const API_KEY = 'aos_routes_consistency_test_key_0123456789';

/** `:agent_id` → `agent_id`, for every param of a Fastify URL. */
function fastifyParams(url: string): string[] {
  return [...url.matchAll(/:([A-Za-z0-9_]+)/g)].map((match) => match[1] ?? '');
}

/** `/agents/:agent_id` → `/agents/{agent_id}`, as @fastify/swagger writes paths. */
function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function isHidden(route: RouteOptions): boolean {
  return route.schema?.hide === true;
}

let test: TestApp;
let entries: RouteEntry[];
/** Routes a client calls by name: not hidden, not Fastify's automatic HEAD twin, not the CORS preflight. */
let documented: RouteEntry[];
let operations: { method: string; path: string; operation: Operation }[];

beforeAll(async () => {
  collected.routes.length = 0;
  // api_key mode: with a credential configured, only public routes answer without one.
  test = await buildTestApp({ auth: { api_keys: [API_KEY] } });
  entries = collected.routes.flatMap((route) =>
    (Array.isArray(route.method) ? route.method : [route.method]).map((method) => ({
      method: String(method).toUpperCase(),
      url: route.url,
      route,
    })),
  );
  documented = entries.filter(
    (entry) => !isHidden(entry.route) && entry.method !== 'HEAD' && entry.method !== 'OPTIONS',
  );
  const document = test.app.swagger() as unknown as OpenApiDocument;
  operations = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ method: method.toUpperCase(), path, operation })),
  );
});

afterAll(async () => {
  await test.close();
});

describe('route table', () => {
  it('sees the whole app (the checks below are not vacuous)', () => {
    expect(documented.length).toBeGreaterThan(5);
    expect(operations.length).toBeGreaterThan(5);
    expect(documented.map((entry) => `${entry.method} ${entry.url}`)).toEqual(
      expect.arrayContaining(['GET /health', 'GET /api/health', 'GET /agents/:agent_id']),
    );
  });

  it('declares no method and path twice (param names aside)', () => {
    const keys = entries.map((entry) => `${entry.method} ${entry.url.replace(/:[A-Za-z0-9_]+/g, ':')}`);
    const repeated = keys.filter((key, index) => keys.indexOf(key) !== index);
    expect(repeated).toEqual([]);
  });

  it('gives every documented route a summary, tags and an operationId', () => {
    for (const { method, url, route } of documented) {
      const where = `${method} ${url}`;
      expect(route.schema?.summary, `${where}: summary`).toEqual(expect.stringMatching(/\S/));
      expect(route.schema?.tags, `${where}: tags`).toEqual([expect.stringMatching(/\S/)]);
      expect(route.schema?.operationId, `${where}: operationId`).toEqual(expect.stringMatching(/^[A-Za-z]\w*$/));
    }
  });

  it('names every path param of a documented route in its params schema, and nothing else', () => {
    for (const { method, url, route } of documented) {
      const inUrl = fastifyParams(url).sort();
      const params = route.schema?.params;
      const declared = params instanceof z.ZodObject ? Object.keys(params.shape).sort() : [];
      expect(declared, `${method} ${url}: params schema`).toEqual(inUrl);
    }
  });

  it('declares access (public or a scope) on every route but the CORS preflight', () => {
    const undeclared = entries
      .filter((entry) => entry.method !== 'OPTIONS')
      .filter(({ route }) => route.config?.access?.public !== true && typeof route.config?.access?.scope !== 'string')
      .map((entry) => `${entry.method} ${entry.url}`);
    expect(undeclared).toEqual([]);
  });
});

describe('OpenAPI document', () => {
  it('has an operation for every documented HTTP route and no other', () => {
    const expected = documented
      .filter((entry) => entry.route.websocket !== true)
      .map((entry) => `${entry.method} ${openApiPath(entry.url)}`)
      .sort();
    expect(operations.map(({ method, path }) => `${method} ${path}`).sort()).toEqual(expected);
  });

  it('gives every operation a summary, tags and a unique operationId', () => {
    for (const { method, path, operation } of operations) {
      const where = `${method} ${path}`;
      expect(operation.summary, `${where}: summary`).toEqual(expect.stringMatching(/\S/));
      expect(operation.tags?.length, `${where}: tags`).toBeGreaterThan(0);
      expect(operation.operationId, `${where}: operationId`).toEqual(expect.any(String));
    }
    const ids = operations.map(({ operation }) => operation.operationId);
    expect(ids.filter((id, index) => ids.indexOf(id) !== index)).toEqual([]);
  });

  it('lists every {param} of a path as a required path parameter', () => {
    for (const { method, path, operation } of operations) {
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]).sort();
      const declared = (operation.parameters ?? [])
        .filter((parameter) => parameter.in === 'path' && parameter.required === true)
        .map((parameter) => parameter.name)
        .sort();
      expect(declared, `${method} ${path}: path parameters`).toEqual(inPath);
    }
  });
});

describe('declared access, checked by requests without credentials (api_key mode)', () => {
  const concrete = (url: string) => url.replace(/:[A-Za-z0-9_]+/g, 'x').replace('*', 'x');

  it('accepts the configured key, so a 401 below means "no credentials", not a broken setup', async () => {
    const response = await test.app.inject({ url: '/config', headers: { authorization: `Bearer ${API_KEY}` } });
    expect(response.statusCode).toBe(200);
  });

  it('answers 401 on every scoped route and never 401 or 403 on a public one', async () => {
    const checked = entries.filter((entry) => entry.method !== 'OPTIONS');
    let scoped = 0;
    let open = 0;
    for (const { method, url, route } of checked) {
      const response = await test.app.inject({ method: method as 'GET', url: concrete(url) });
      const where = `${method} ${url} -> ${response.statusCode} ${response.body}`;
      if (route.config?.access?.public === true) {
        open += 1;
        expect([401, 403], where).not.toContain(response.statusCode);
      } else {
        scoped += 1;
        expect(response.statusCode, where).toBe(401);
        if (method !== 'HEAD') {
          // `/v1` nests its code in OpenAI's `{error:{message,type,code}}` (CONTRACT.md §3).
          const body = response.json();
          expect(url.startsWith('/v1/') ? body.error : body, where).toMatchObject({ code: 'AOS_AUTH_REQUIRED' });
        }
      }
    }
    expect(scoped).toBeGreaterThan(5);
    expect(open).toBeGreaterThan(2);
  });
});
