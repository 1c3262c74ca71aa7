/**
 * The `memory_search` built-in tool (CONTRACT.md §2): the model searches the memories of the user it is
 * talking to. It only ever reads the run's own user in the run's own workspace; a run without a user
 * has no memories to search.
 * @module
 */
import { z } from 'zod';
import type { AgentConfig } from '../config/index.js';
import { AgentOsError } from '../errors/index.js';
import type { ToolDefinition } from '../runtime/tools/types.js';
import type { MemoryService } from './memory-service.js';

/** The tool's name as configs spell it. */
export const MEMORY_SEARCH_TOOL = 'memory_search';

const input = z.object({
  query: z.string().trim().min(1).max(1000).describe('What to look for in the memories'),
  limit: z.number().int().min(1).max(20).optional().describe('How many memories at most (default 5)'),
});

/** Creates the tool over the memory store. */
export function createMemorySearchTool(memory: Pick<MemoryService, 'search'>): ToolDefinition {
  return {
    name: MEMORY_SEARCH_TOOL,
    description:
      'Search what you remember about the user from earlier conversations (their preferences, facts they ' +
      'shared). Returns the best-matching memories with a relevance score.',
    inputSchema: input,
    async execute(args, context) {
      const { query, limit } = input.parse(args);
      // Fail closed: without the run's workspace a search could reach another tenant's memories.
      if (context.workspaceId === undefined) {
        throw new AgentOsError('AOS_TOOL_FAILED', 'memory_search: the run has no workspace');
      }
      if (context.userId === null) return { query, results: [], note: 'This conversation has no user id.' };
      const hits = await memory.search(context.workspaceId, context.userId, query, limit ?? 5);
      return {
        query,
        results: hits.map((hit) => ({
          memory_id: hit.item.memoryId,
          memory: hit.item.memory,
          topics: hit.item.topics,
          score: Math.round(hit.score * 1000) / 1000,
          match_type: hit.matchType,
          updated_at: new Date(hit.item.updatedAt).toISOString(),
        })),
      };
    },
  };
}

/** Wraps an agent tool resolver: agents that list `memory_search` get the tool. */
export function withMemoryTools(
  resolve: (agent: AgentConfig) => ToolDefinition[],
  memory: Pick<MemoryService, 'search'>,
): (agent: AgentConfig) => ToolDefinition[] {
  const tool = createMemorySearchTool(memory);
  return (agent) => {
    const tools = resolve(agent).filter((entry) => entry.name !== MEMORY_SEARCH_TOOL);
    return agent.tools.some((entry) => entry.name === MEMORY_SEARCH_TOOL) ? [...tools, tool] : tools;
  };
}
