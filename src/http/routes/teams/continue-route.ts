/**
 * `POST /teams/{team_id}/runs/{run_id}/continue` (issue 8, research/agno.md §3): finishes a team run
 * paused at a member's human-in-the-loop tool. The same semantics as the agent continue route (the
 * paused calls under `tools`, or Agno's team shape, `requirements`; empty when the approvals were
 * resolved), the same approval gate, and the same answers: blocking, SSE or background.
 * @module
 */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { idSchema } from '../../../config/index.js';
import { AgentOsError } from '../../../errors/index.js';
import type { ToolDecisionInput } from '../../../runtime/hitl/types.js';
import type { Services } from '../../../services.js';
import type { ZodApp } from '../../route-config.js';
import { canApprove, deciderOf } from '../approvals/decider.js';
import { runAccessOf } from '../components/run-access.js';
import { backgroundAccepted, continueRequest, toolDecision } from '../runs/schemas.js';
import { compositeRunView, continueComponentRun } from './component-run-routes.js';

/** Body of a team continue: the agent route's, plus Agno's `requirements`. */
export const teamContinueRequest = continueRequest.extend({
  requirements: z.union([z.string().max(1_000_000), z.array(z.unknown())]).optional(),
});

/** One Agno `RunRequirement` sent back: the decision on its `tool_execution`. */
const requirementDecision = z
  .object({
    tool_execution: toolDecision,
    confirmation: z.boolean().optional(),
    confirmation_note: z.string().max(10_000).optional(),
    user_input_schema: z.array(z.object({ name: z.string(), value: z.unknown().optional() }).loose()).optional(),
    external_execution_result: z.unknown().optional(),
  })
  .loose();

function badRequest(field: string, issue: z.core.$ZodIssue | undefined): AgentOsError {
  return new AgentOsError(
    'AOS_BAD_REQUEST',
    `\`${field}\`: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}`,
  );
}

/** A JSON string (forms) or an array (JSON); one object counts as a list of one. */
function listOf(field: string, value: string | unknown[] | undefined): unknown[] {
  if (value === undefined || value === '') return [];
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new AgentOsError('AOS_BAD_REQUEST', `\`${field}\` is not valid JSON`);
    }
  }
  return Array.isArray(parsed) ? parsed : [parsed];
}

/** The decisions of a continue body (`tools` and/or `requirements`); 400 when malformed. */
export function teamToolDecisions(body: z.infer<typeof teamContinueRequest>): ToolDecisionInput[] {
  const tools = z.array(toolDecision).safeParse(listOf('tools', body.tools));
  if (!tools.success) throw badRequest('tools', tools.error.issues[0]);
  const requirements = z.array(requirementDecision).safeParse(listOf('requirements', body.requirements));
  if (!requirements.success) throw badRequest('requirements', requirements.error.issues[0]);
  const fromRequirements = requirements.data.map((requirement): ToolDecisionInput => {
    const tool = requirement.tool_execution as ToolDecisionInput;
    const schema = requirement.user_input_schema ?? tool.user_input_schema;
    const result = requirement.external_execution_result ?? tool.result;
    return {
      ...tool,
      confirmed: requirement.confirmation ?? tool.confirmed,
      confirmation_note: requirement.confirmation_note ?? tool.confirmation_note,
      ...(schema === undefined ? {} : { user_input_schema: schema }),
      ...(result === undefined ? {} : { result }),
    };
  });
  return [...(tools.data as ToolDecisionInput[]), ...fromRequirements];
}

/** Registers the team continue route. */
export function registerTeamContinueRoute(
  app: ZodApp,
  services: Services,
  name: (request: FastifyRequest, id: string) => Promise<string>,
): void {
  app.post('/teams/:team_id/runs/:run_id/continue', {
    config: { access: { scope: 'teams:run', scopeParam: 'team_id' }, forms: true, rateLimitClass: 'message' },
    schema: {
      summary: 'Continue a paused team run',
      description:
        'Form or JSON. A team run pauses when a member calls a tool that needs a human (TeamRunPaused with ' +
        '`tools` and `requirements` naming the member). `tools`: the paused calls sent back as on the agent ' +
        "route (`confirmed` + `confirmation_note`, `user_input` values, an external `result`), or Agno's " +
        '`requirements`; empty when the approvals were resolved. Emits TeamRunContinued, finishes the member, ' +
        'then the team: SSE with `stream=true`, 202 with `background=true`, else the run. 403 while an ' +
        '`approval: required` approval is pending (unless the caller has approvals:write); 409 when the run is ' +
        'not paused.',
      tags: ['Teams'],
      operationId: 'continueTeamRun',
      consumes: ['multipart/form-data', 'application/x-www-form-urlencoded', 'application/json'],
      params: z.object({ team_id: idSchema, run_id: idSchema }),
      body: teamContinueRequest.optional(),
      response: { 200: compositeRunView, 202: backgroundAccepted },
    },
    handler: async (request, reply) => {
      const { team_id: teamId, run_id: runId } = request.params;
      const teamName = await name(request, teamId);
      const body = request.body ?? { stream: false, background: false };
      const target = { componentType: 'team' as const, componentId: teamId, runId, name: teamName };
      return continueComponentRun(services, request, reply, target, body, (run) =>
        services.approvals.continueRun({
          run,
          tools: teamToolDecisions(body),
          canApprove: canApprove(request),
          decider: deciderOf(request),
          mayRun: runAccessOf(app, request),
        }),
      );
    },
  });
}
