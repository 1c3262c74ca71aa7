/**
 * The only place errors become responses. Each surface context calls {@link registerSurfaceErrors}
 * with its surface, so a 404 or 422 under `/api` is `{error}` and under `/agents` is `{detail}`.
 * Messages of 5xx errors are replaced in the response and logged in full with the request context.
 * @module
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { type ErrorCode, isAgentOsError } from '../../errors/index.js';
import { redactUrl } from '../../logging/redact-url.js';
import {
  type ErrorDescription,
  formatErrorBody,
  type Surface,
  type ValidationIssue,
  validationStatus,
} from '../surfaces.js';
import { SECURITY_HEADERS } from './security-headers.js';

const CONTEXT_LOCATION: Record<string, string> = {
  body: 'body',
  params: 'path',
  querystring: 'query',
  headers: 'header',
};

interface ValidationEntry {
  instancePath?: string;
  message?: string;
  keyword?: string;
}

function toIssues(error: FastifyError): ValidationIssue[] {
  const location = CONTEXT_LOCATION[error.validationContext ?? 'body'] ?? 'body';
  return ((error.validation ?? []) as ValidationEntry[]).map((entry) => ({
    loc: [
      location,
      ...(entry.instancePath ?? '')
        .split('/')
        .filter((segment) => segment !== '')
        .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment)),
    ],
    msg: entry.message ?? 'Invalid value',
    type: entry.keyword ?? 'invalid',
  }));
}

const FASTIFY_STATUS_CODES: Record<number, ErrorCode> = {
  401: 'AOS_AUTH_REQUIRED',
  403: 'AOS_AUTH_FORBIDDEN',
  404: 'AOS_NOT_FOUND',
  413: 'AOS_PAYLOAD_TOO_LARGE',
  415: 'AOS_UNSUPPORTED_MEDIA_TYPE',
};

/** Classifies any thrown value into a status, a code and a client-safe message. */
export function describeError(error: unknown, surface: Surface, requestId: string): ErrorDescription {
  if (isAgentOsError(error)) {
    const description: ErrorDescription = {
      status: error.status,
      code: error.code,
      message: error.status >= 500 ? 'Internal server error' : error.message,
      requestId,
    };
    const retryAfter = (error.details as { retryAfter?: unknown } | undefined)?.retryAfter;
    if (typeof retryAfter === 'number') description.retryAfter = retryAfter;
    return description;
  }
  const fastifyError = error as FastifyError;
  if (hasZodFastifySchemaValidationErrors(fastifyError) || Array.isArray(fastifyError?.validation)) {
    return {
      status: validationStatus(surface),
      code: 'AOS_VALIDATION',
      message: 'Validation failed',
      requestId,
      issues: toIssues(fastifyError),
    };
  }
  const status = typeof fastifyError?.statusCode === 'number' ? fastifyError.statusCode : 500;
  if (status >= 400 && status < 500) {
    return {
      status,
      code: FASTIFY_STATUS_CODES[status] ?? 'AOS_BAD_REQUEST',
      message: fastifyError.message,
      requestId,
    };
  }
  return { status: 500, code: 'AOS_INTERNAL', message: 'Internal server error', requestId };
}

function send(reply: FastifyReply, surface: Surface, description: ErrorDescription): FastifyReply {
  if (description.retryAfter !== undefined) reply.header('retry-after', String(description.retryAfter));
  return reply
    .code(description.status)
    .type('application/json; charset=utf-8')
    .send(formatErrorBody(surface, description));
}

/** Installs the error and not-found handlers of one surface on its encapsulated context. */
export function registerSurfaceErrors(app: FastifyInstance, surface: Surface): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const description = describeError(error, surface, request.id);
    if (description.status >= 500) {
      request.log.error({ err: error, method: request.method, url: redactUrl(request.url) }, 'request failed');
    } else {
      request.log.info({ code: description.code, status: description.status }, (error as Error)?.message);
    }
    return send(reply, surface, description);
  });
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) =>
    send(reply, surface, { status: 404, code: 'AOS_NOT_FOUND', message: 'Not Found', requestId: request.id }),
  );
}

/** The surface a raw URL belongs to, for errors raised before routing (bad URL encoding, long params). */
export function surfaceOfUrl(url: string): Surface {
  if (url === '/api' || url.startsWith('/api/')) return 'api';
  if (url === '/v1' || url.startsWith('/v1/')) return 'openai';
  return 'root';
}

/**
 * Fastify's `frameworkErrors` hook: errors raised before routing (a malformed percent-encoding, a
 * path parameter over the length limit) get the surface's error body and the security headers too.
 * An upgrade request's socket is closed afterwards, since no WebSocket handler will ever own it.
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const description = describeError(error, surfaceOfUrl(request.url), request.id);
  reply.headers(SECURITY_HEADERS);
  reply.header('x-request-id', request.id);
  if (request.headers.upgrade) reply.raw.once('finish', () => request.raw.socket?.destroy());
  send(reply, surfaceOfUrl(request.url), description);
}
