/**
 * What a team or workflow component may call on its caller's behalf: exactly what the caller could
 * run over HTTP itself (`POST /agents/{id}/runs`, `POST /teams/{id}/runs`), judged by the routes' own
 * declared scopes, as schedules judge their endpoints. An unknown route or no principal is a refusal.
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { mayCallRoute } from '../../plugins/access-control.js';

/** The `mayRun` check the team and workflow runners take for component runs. */
export function runAccessOf(
  app: FastifyInstance,
  request: FastifyRequest,
): (resource: 'agents' | 'teams', id: string) => boolean {
  const principal = request.principal;
  return (resource, id) => principal !== null && mayCallRoute(app, principal, 'POST', `/${resource}/${id}/runs`);
}
