/**
 * What each route declares next to its schema: who may call it. A route that declares neither
 * `public` nor `scope` fails to register (see `plugins/access-control.ts`), so none can be forgotten.
 * @module
 */

/** Access rule of one route. */
export interface RouteAccess {
  /** Callable without credentials (CONTRACT.md §4 lists which). */
  public?: true;
  /** `resource:action` the caller needs, e.g. `config:read`. */
  scope?: string;
  /** Path param holding the resource id, so `agents:<id>:read` also satisfies the scope. */
  scopeParam?: string;
  /** For list routes: a scope on any one resource of the type is enough; the handler filters the items. */
  anyId?: true;
  /** Also accept the credential as `?token=` (WebSocket routes: browsers cannot set headers there). */
  tokenQuery?: true;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
    /** Multipart bodies may reach `server.upload_limit` on this route (other bodies keep `body_limit`). */
    uploads?: boolean;
    /** Uploaded files keep their bytes as `files[].data` (a Buffer) instead of being drained (needs `uploads`). */
    keepFiles?: boolean;
    /** Multipart form fields are accepted (within `body_limit`) though no files are expected (Agno's resume form). */
    forms?: boolean;
    /**
     * Rate-limit class of the route when it is not the method's default (`read` for GET/HEAD, `write`
     * otherwise): `message` for agent and team runs, `workflow_run` for workflow runs (CONTRACT.md §5).
     */
    rateLimitClass?: 'read' | 'write' | 'message' | 'workflow_run';
  }
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';

/** A Fastify instance typed by zod schemas, what route helpers receive. */
export type ZodApp = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;
