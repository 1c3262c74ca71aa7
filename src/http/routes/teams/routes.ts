/**
 * Team runs on the root surface (research/agno.md §1.2: the agent run paths under `/teams`), with
 * `teams:*` scopes and the `message` rate-limit class. `GET /teams` and `GET /teams/{id}` live in the
 * catalog routes.
 * @module
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { componentName } from '../../../agents/components.js';
import { NotFoundError } from '../../../errors/index.js';
import type { Services } from '../../../services.js';
import { workspaceOf } from '../../plugins/access-control.js';
import { componentRunStart, registerComponentRunRoutes } from './component-run-routes.js';

/** Route table of team runs. */
export const teamRunRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  registerComponentRunRoutes(app, services, {
    resource: 'teams',
    componentType: 'team',
    param: 'team_id',
    tag: 'Teams',
    noun: 'Team',
    rateLimitClass: 'message',
    name: async (request, id) => {
      const team = services.config.teams.find((candidate) => candidate.id === id);
      if (team) return team.name ?? team.id;
      // Team components (issue 9): named by the component, whichever config version runs.
      const stored = await componentName(services.store, workspaceOf(request), 'team', id);
      if (stored === null) throw new NotFoundError('Team not found');
      return stored;
    },
    start: (request, id, body) =>
      services.teams.start({ ...componentRunStart(fastify, services, request, body), teamId: id }),
  });
};
