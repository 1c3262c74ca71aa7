/**
 * How members' answers reach the leader: the delegation tools of `coordinate` (`transfer_task_to_member`)
 * and `route` (`route_to_member`), and the texts the leader reads back.
 * @module
 */
import { z } from 'zod';
import type { TeamConfig } from '../../config/index.js';
import type { ToolDefinition } from '../tools/types.js';
import type { MemberResponse } from './member-run.js';

/** The leader's message in `collaborate`: the request and every member's answer. */
export function collaborateMessage(message: string, answers: readonly MemberResponse[]): string {
  return [
    `Request: ${message}`,
    ...answers.map(
      (answer) =>
        `Answer of ${answer.name}:\n${answer.status === 'completed' ? answer.content : `(failed: ${answer.error ?? 'error'})`}`,
    ),
  ].join('\n\n');
}

/** What a delegation tool returns to the leader for a member that finished. */
export function delegationResult(response: MemberResponse): string {
  return response.status === 'completed' ? response.content : `Member failed: ${response.error ?? 'error'}`;
}

/**
 * The leader's delegation tools for `team.mode` (none for `collaborate`). `delegate` runs a member for a
 * tool call and resolves `undefined` when the member paused; `onRouted` receives the routed member's answer.
 */
export function delegationTools(
  team: TeamConfig,
  original: string,
  delegate: (memberId: string, task: string, toolCallId: string) => Promise<MemberResponse | undefined>,
  onRouted: (response: MemberResponse) => void,
): ToolDefinition[] {
  const waiting = 'Paused: the member waits for a human decision';

  const tools: ToolDefinition[] = [];
  if (team.mode === 'coordinate') {
    tools.push({
      name: 'transfer_task_to_member',
      description: 'Give a task to one team member and get its answer back.',
      inputSchema: z.object({
        member_id: z.enum(team.members as [string, ...string[]]),
        task: z.string().describe('What the member should do, with the context it needs'),
      }),
      execute: async (args, context) => {
        const response = await delegate(String(args.member_id), String(args.task), context.toolCallId);
        return response ? delegationResult(response) : waiting;
      },
    });
  } else if (team.mode === 'route') {
    tools.push({
      name: 'route_to_member',
      description: 'Hand the request to the one member best suited to answer it; its answer goes to the user.',
      inputSchema: z.object({ member_id: z.enum(team.members as [string, ...string[]]) }),
      execute: async (args, context) => {
        const response = await delegate(String(args.member_id), original, context.toolCallId);
        if (response) onRouted(response);
        return response ? response.content : waiting;
      },
    });
  }
  return tools;
}
