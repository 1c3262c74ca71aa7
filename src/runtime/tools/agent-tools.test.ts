import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../../../test/helpers.js';
import { parseConfig } from '../../config/index.js';
import { createAgentToolResolver } from './agent-tools.js';

describe('agent tool resolution', () => {
  it('offers runnable tools and withholds the ones that need a human or another room (fail closed)', () => {
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
              'calculator',
              'http_request',
              'notify',
              'ask_user',
              'knowledge_search',
              { name: 'current_time', requires_confirmation: true },
            ],
          },
        ],
      },
      { source: 'test' },
    );
    const { logger, lines } = memoryLogger('warn');
    const resolve = createAgentToolResolver({ config, logger });
    const agent = config.agents[0];
    if (!agent) throw new Error('no agent');
    expect(resolve(agent).map((tool) => tool.name)).toEqual(['calculator', 'http_request', 'notify']);
    const warning = lines().find((line) => line.msg === 'agent tools not offered to the model yet');
    expect(warning?.withheld).toEqual([
      'ask_user (needs human-in-the-loop support)',
      'knowledge_search (arrives with the memory and knowledge work)',
      'current_time (needs human-in-the-loop support)',
    ]);
  });
});
