/**
 * The `knowledge_search` tool: an agent with `knowledge: <id>` (or listing the tool) searches its
 * knowledge base by hybrid search in the run's workspace, and the run reports the chunks it used as
 * `references` (content id, chunk, score), read back from the tool results.
 * @module
 */
import { z } from 'zod';
import type { AgentConfig } from '../../config/index.js';
import { AgentOsError } from '../../errors/index.js';
import type { ToolExecution } from '../../events/index.js';
import type { KnowledgeSearchRequest, KnowledgeService } from '../../knowledge/service.js';
import type { ToolDefinition } from './types.js';

/** The tool's name, as configs and models spell it. */
export const KNOWLEDGE_SEARCH_TOOL = 'knowledge_search';

const MAX_RESULTS = 20;
const DEFAULT_RESULTS = 5;

const input = z.object({
  query: z.string().min(1).max(2000).describe('What to look for, in natural language or keywords.'),
  max_results: z.number().int().min(1).max(MAX_RESULTS).optional().describe(`Default ${DEFAULT_RESULTS}.`),
});

/** One result the tool returns to the model. */
export interface KnowledgeSearchResult {
  content_id: string;
  knowledge_id: string;
  name: string;
  chunk: number;
  score: number;
  match_type: string;
  content: string;
}

/** A chunk a run's answer drew on. */
export interface KnowledgeReference {
  content_id: string;
  knowledge_id: string;
  name: string;
  chunk: number;
  score: number;
  match_type: string;
  content: string;
}

/** Creates the tool for one agent; `knowledgeId` undefined searches every knowledge base. */
export function createKnowledgeSearchTool(
  knowledge: KnowledgeService,
  knowledgeId: string | undefined,
): ToolDefinition {
  return {
    name: KNOWLEDGE_SEARCH_TOOL,
    description:
      'Search the knowledge base for passages relevant to a query (hybrid keyword and semantic search). ' +
      'Returns the best-matching chunks with their content id and score; cite what you use.',
    inputSchema: input,
    async execute(args, context) {
      const { query, max_results } = input.parse(args);
      // Fail closed: without the run's workspace the search could reach another tenant's content.
      if (context.workspaceId === undefined) {
        throw new AgentOsError('AOS_TOOL_FAILED', 'knowledge_search: the run has no workspace');
      }
      const search = (traceParent?: KnowledgeSearchRequest['traceParent']) =>
        knowledge.search({
          traceParent,
          workspaceId: context.workspaceId as string,
          knowledgeId,
          query,
          mode: 'hybrid',
          limit: max_results ?? DEFAULT_RESULTS,
        });
      const span = { name: `retrieval ${knowledgeId ?? 'knowledge'}`, operation: 'retrieval' as const };
      const hits = context.withSpan
        ? await context.withSpan({ ...span, attributes: { 'gen_ai.data_source.id': knowledgeId ?? '' } }, search)
        : await search(undefined);
      const results: KnowledgeSearchResult[] = hits.map((hit) => ({
        content_id: hit.sourceId,
        knowledge_id: hit.knowledgeId,
        name: typeof hit.metadata.name === 'string' ? hit.metadata.name : hit.sourceId,
        chunk: hit.chunkIndex,
        score: hit.score,
        match_type: hit.matchType,
        content: hit.content,
      }));
      return { query, results };
    },
  };
}

/**
 * Wraps an agent tool resolver: agents with `knowledge:` (or listing `knowledge_search`) get the tool,
 * bound to their knowledge base.
 */
export function withKnowledgeTools(
  resolve: (agent: AgentConfig) => ToolDefinition[],
  knowledge: KnowledgeService,
): (agent: AgentConfig) => ToolDefinition[] {
  const cache = new Map<string, ToolDefinition>();
  return (agent) => {
    const tools = resolve(agent).filter((tool) => tool.name !== KNOWLEDGE_SEARCH_TOOL);
    const listed = agent.tools.some((entry) => entry.name === KNOWLEDGE_SEARCH_TOOL);
    if (agent.knowledge === undefined && !listed) return tools;
    const key = agent.knowledge ?? '\u0000all';
    let tool = cache.get(key);
    if (!tool) {
      tool = createKnowledgeSearchTool(knowledge, agent.knowledge);
      cache.set(key, tool);
    }
    return [...tools, tool];
  };
}

/** The chunks a run's `knowledge_search` calls returned, best first, each once. */
export function knowledgeReferences(tools: readonly ToolExecution[] | undefined): KnowledgeReference[] {
  const seen = new Map<string, KnowledgeReference>();
  for (const execution of tools ?? []) {
    if (execution.tool_name !== KNOWLEDGE_SEARCH_TOOL || execution.tool_call_error || !execution.result) continue;
    let parsed: { results?: KnowledgeSearchResult[] };
    try {
      parsed = JSON.parse(execution.result) as { results?: KnowledgeSearchResult[] };
    } catch {
      continue;
    }
    for (const result of parsed.results ?? []) {
      const key = `${result.content_id}#${result.chunk}`;
      const existing = seen.get(key);
      if (!existing || existing.score < result.score) seen.set(key, { ...result });
    }
  }
  return [...seen.values()].sort((a, b) => b.score - a.score);
}
