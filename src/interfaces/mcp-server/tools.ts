/**
 * The tools agentos serves over MCP (CONTRACT.md §3) and the REST twin each one mirrors. Every call checks
 * the twin's scope for the caller's own principal and workspace before it does anything (Agno let /mcp
 * bypass RBAC, #8705: agentos does not), and reads and writes through the same services and user-isolation
 * helpers as the REST routes.
 * @module
 */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { callerSubjectOf } from '../../auth/index.js';
import { hasScope, type ScopeRequirement } from '../../auth/scopes.js';
import { AgentOsError, NotFoundError } from '../../errors/index.js';
import { workspaceOf } from '../../http/plugins/access-control.js';
import { buildConfigView } from '../../http/routes/core/routes.js';
import { toRunView } from '../../http/routes/runs/run-view.js';
import { toCompositeRunView } from '../../http/routes/teams/component-run-routes.js';
import { assertOwnedBy, effectiveUserId } from '../../http/user-scope.js';
import type { ToolDecisionInput } from '../../runtime/hitl/types.js';
import type { RunHandle } from '../../runtime/run-manager.js';
import type { Services } from '../../services.js';
import type { RunRecord } from '../../store/types.js';

/** Who is calling: the request the authentication hook settled (principal, workspace). */
export interface McpCallContext {
  services: Services;
  request: FastifyRequest;
}

/** One MCP tool: its input, the scope of its REST twin for these arguments, and what it does. */
export interface AgentOsMcpTool<Schema extends z.ZodObject = z.ZodObject> {
  name: string;
  description: string;
  input: Schema;
  /** The scope the REST twin needs; resolved per call because it may name the resource id. */
  scope(args: z.infer<Schema>, context: McpCallContext): Promise<ScopeRequirement>;
  run(args: z.infer<Schema>, context: McpCallContext): Promise<unknown>;
}

/** The refusal a tool call gets when the caller lacks the scope (JSON-RPC error, HTTP 403's twin). */
export class McpForbiddenError extends Error {
  constructor(readonly required: string) {
    super(`Insufficient permissions. Required scope: ${required}`);
    this.name = 'McpForbiddenError';
  }
}

/** True when the caller's principal satisfies the requirement. */
export function allowed(context: McpCallContext, requirement: ScopeRequirement): boolean {
  return hasScope(context.request.principal?.scopes ?? [], requirement);
}

const id = z.string().min(1).max(128);
const runInput = {
  message: z.string().min(1).describe('The user message'),
  session_id: id.optional().describe('Continue this session; a new one is created when absent'),
  user_id: z.string().min(1).max(256).optional(),
};
const PLURAL = { agent: 'agents', team: 'teams', workflow: 'workflows' } as const;

function runNotFound(): NotFoundError {
  return new NotFoundError('Run not found');
}

/** A run of the caller's workspace (and user, under isolation); another tenant's run reads as missing. */
async function ownRun(context: McpCallContext, runId: string): Promise<RunRecord> {
  const { services, request } = context;
  const found = await services.store.runs.get(workspaceOf(request), runId);
  return assertOwnedBy(found, effectiveUserId(request, services.config), runNotFound);
}

/** The scope a run's REST twin needs (`agents:<id>:run` for an agent run, and so on). */
async function runScope(context: McpCallContext, runId: string): Promise<ScopeRequirement> {
  const run = await ownRun(context, runId);
  return { resource: PLURAL[run.componentType], action: 'run', id: run.componentId };
}

/** What a finished (or paused) run returns to the MCP client. */
function runResult(context: McpCallContext, run: RunRecord): unknown {
  if (run.componentType === 'agent') {
    const agent = context.services.config.agents.find((entry) => entry.id === run.componentId);
    return toRunView(run, agent ? (agent.name ?? agent.id) : run.componentId);
  }
  return toCompositeRunView(run, run.componentId);
}

function starter(context: McpCallContext, args: { user_id?: string | undefined }) {
  const pinned = effectiveUserId(context.request, context.services.config);
  return {
    workspaceId: workspaceOf(context.request),
    userId: pinned ?? args.user_id,
    userPinned: pinned !== undefined,
    // Usage and budgets count against the caller (quotas).
    principal: callerSubjectOf(context.request.principal),
  };
}

async function finished(context: McpCallContext, handle: RunHandle): Promise<unknown> {
  return runResult(context, await handle.done);
}

function tool<Schema extends z.ZodObject>(definition: AgentOsMcpTool<Schema>): AgentOsMcpTool {
  return definition as unknown as AgentOsMcpTool;
}

/** Every tool, in the order `tools/list` shows them. */
export const MCP_TOOLS: readonly AgentOsMcpTool[] = [
  tool({
    name: 'get_agentos_config',
    description: 'The AgentOS configuration: agents, teams, workflows, models (GET /config).',
    input: z.object({}),
    scope: async () => ({ resource: 'config', action: 'read' }),
    run: async (_args, context) => buildConfigView(context.services),
  }),
  tool({
    name: 'run_agent',
    description: 'Run an agent with a message and wait for its reply (POST /agents/{agent_id}/runs).',
    input: z.object({ agent_id: id, ...runInput }),
    scope: async (args) => ({ resource: 'agents', action: 'run', id: args.agent_id }),
    run: async (args, context) => {
      const base = starter(context, args);
      const agent = await context.services.runs.resolveAgent(base.workspaceId, args.agent_id);
      const handle = await context.services.runs.start({
        ...base,
        agentId: args.agent_id,
        agent,
        message: args.message,
        sessionId: args.session_id,
      });
      return finished(context, handle);
    },
  }),
  tool({
    name: 'run_team',
    description: 'Run a team with a message and wait for its reply (POST /teams/{team_id}/runs).',
    input: z.object({ team_id: id, ...runInput }),
    scope: async (args) => ({ resource: 'teams', action: 'run', id: args.team_id }),
    run: async (args, context) => {
      const handle = await context.services.teams.start({
        ...starter(context, args),
        teamId: args.team_id,
        message: args.message,
        sessionId: args.session_id,
        // A team or workflow component calls only what this caller could run alone.
        mayRun: (resource, id) => allowed(context, { resource, action: 'run', id }),
      });
      return finished(context, handle);
    },
  }),
  tool({
    name: 'run_workflow',
    description: 'Run a workflow with a message and wait for its output (POST /workflows/{workflow_id}/runs).',
    input: z.object({ workflow_id: id, ...runInput }),
    scope: async (args) => ({ resource: 'workflows', action: 'run', id: args.workflow_id }),
    run: async (args, context) => {
      const handle = await context.services.workflows.start({
        ...starter(context, args),
        workflowId: args.workflow_id,
        message: args.message,
        sessionId: args.session_id,
        // A team or workflow component calls only what this caller could run alone.
        mayRun: (resource, id) => allowed(context, { resource, action: 'run', id }),
      });
      return finished(context, handle);
    },
  }),
  tool({
    name: 'continue_run',
    description:
      'Continue a paused agent run with decisions on its paused tool calls (POST /agents/{agent_id}/runs/{run_id}/continue).',
    input: z.object({
      run_id: id,
      tools: z
        .array(
          z
            .object({
              tool_call_id: z.string().min(1),
              confirmed: z.boolean().optional(),
              confirmation_note: z.string().optional(),
              user_input: z.record(z.string(), z.unknown()).optional(),
              result: z.unknown().optional(),
            })
            .loose(),
        )
        .default([]),
    }),
    scope: (args, context) => runScope(context, args.run_id),
    run: async (args, context) => {
      const run = await ownRun(context, args.run_id);
      if (run.componentType !== 'agent')
        throw new AgentOsError('AOS_BAD_REQUEST', 'continue_run continues agent runs; use the REST route');
      const principal = context.request.principal;
      const handle = await context.services.approvals.continueRun({
        run,
        tools: args.tools as ToolDecisionInput[],
        canApprove: hasScope(principal?.scopes ?? [], { resource: 'approvals', action: 'write' }),
        decider: {
          principal: principal?.id ?? 'anonymous',
          resolvedBy: principal?.kind === 'jwt' ? (principal.userId ?? principal.id) : (principal?.id ?? 'anonymous'),
        },
      });
      return finished(context, handle);
    },
  }),
  tool({
    name: 'cancel_run',
    description: 'Cancel a running or paused run (POST /{agents|teams|workflows}/{id}/runs/{run_id}/cancel).',
    input: z.object({ run_id: id }),
    scope: (args, context) => runScope(context, args.run_id),
    run: async (args, context) => {
      const run = await ownRun(context, args.run_id);
      const cancelled = await context.services.runs.cancel(run.workspaceId, run.runId);
      return { run_id: run.runId, cancelled };
    },
  }),
  tool({
    name: 'get_sessions',
    description: 'List sessions, newest first (GET /sessions).',
    input: z.object({
      type: z.enum(['agent', 'team', 'workflow']).optional(),
      component_id: id.optional(),
      user_id: z.string().min(1).max(256).optional(),
      page: z.number().int().min(1).default(1),
      limit: z.number().int().min(1).max(100).default(20),
    }),
    scope: async () => ({ resource: 'sessions', action: 'read' }),
    run: async (args, context) => {
      const userId = effectiveUserId(context.request, context.services.config) ?? args.user_id;
      const page = await context.services.store.sessions.list({
        workspaceId: workspaceOf(context.request),
        ...(args.type === undefined ? {} : { sessionType: args.type }),
        ...(args.component_id === undefined ? {} : { componentId: args.component_id }),
        ...(userId === undefined ? {} : { userId }),
        page: args.page,
        limit: args.limit,
      });
      return {
        sessions: page.items.map((session) => ({
          session_id: session.sessionId,
          session_name: session.sessionName,
          session_type: session.sessionType,
          component_id: session.componentId,
          user_id: session.userId,
          created_at: new Date(session.createdAt).toISOString(),
          updated_at: new Date(session.updatedAt).toISOString(),
        })),
        total: page.total,
      };
    },
  }),
  tool({
    name: 'get_session_runs',
    description: "A session's runs, oldest first (GET /sessions/{session_id}/runs).",
    input: z.object({ session_id: id }),
    scope: async () => ({ resource: 'sessions', action: 'read' }),
    run: async (args, context) => {
      const { services, request } = context;
      const session = assertOwnedBy(
        await services.store.sessions.get(workspaceOf(request), args.session_id),
        effectiveUserId(request, services.config),
        () => new NotFoundError('Session not found'),
      );
      const page = await services.store.runs.list({
        workspaceId: session.workspaceId,
        sessionId: session.sessionId,
        order: 'asc',
        page: 1,
        limit: 100,
      });
      return { runs: page.items.map((run) => runResult(context, run)), total: page.total };
    },
  }),
];
