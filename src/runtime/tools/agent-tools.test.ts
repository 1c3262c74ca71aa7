import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../../../test/helpers.js';
import { parseConfig } from '../../config/index.js';
import { createAgentToolResolver } from './agent-tools.js';

describe('agent tool resolution', () => {
  it('offers every tool, gated ones with their human-in-the-loop flags (the runner never executes them alone)', () => {
    const config = parseConfig(
      {
        tools: [
          { name: 'notify', description: 'Notify someone.', webhook: { url: 'https://hooks.example.com/notify' } },
          { name: 'ask_user', description: 'Ask the caller for a value.' },
        ],
        agents: [
          {
            id: 'a',
            tools: [
              'notify',
              'ask_user',
              { name: 'current_time', requires_confirmation: true },
              { name: 'http_request', requires_user_input: true, user_input_fields: ['url'] },
              { name: 'calculator', approval: 'required', approval_timeout_s: 60 },
            ],
          },
        ],
      },
      { source: 'test' },
    );
    const { logger } = memoryLogger('warn');
    const resolve = createAgentToolResolver({ config, logger });
    const agent = config.agents[0];
    if (!agent) throw new Error('no agent');
    const tools = resolve(agent);
    expect(tools.map((tool) => [tool.name, tool.hitl ?? null])).toEqual([
      ['notify', null],
      // A declared tool without a webhook is executed by the caller (CONTRACT.md §2).
      ['ask_user', expect.objectContaining({ externalExecution: true, requiresConfirmation: false })],
      ['current_time', expect.objectContaining({ requiresConfirmation: true })],
      ['http_request', expect.objectContaining({ requiresUserInput: true, userInputFields: ['url'] })],
      // `approval: required` implies a confirmation (Agno's @approval).
      [
        'calculator',
        expect.objectContaining({ approval: 'required', requiresConfirmation: true, approvalTimeoutS: 60 }),
      ],
    ]);
  });
});
