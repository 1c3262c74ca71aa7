/**
 * The config served when no file is found, so `npm start` works on a fresh machine with no key and no network.
 * @module
 */
import type { AgentOsConfigInput } from './schema.js';

/** The `source` that {@link loadConfig} reports when it falls back to {@link DEMO_CONFIG}. */
export const DEMO_CONFIG_SOURCE = 'built-in demo config';

/** The built-in demo config (raw input): two offline agents, a team of both and a two-step workflow. */
export const DEMO_CONFIG: AgentOsConfigInput = {
  name: 'Demo AgentOS',
  description: 'Built-in demo: offline agents on the local:default model.',
  models: { default: 'local:default' },
  default_agent: 'assistant',
  agents: [
    {
      id: 'assistant',
      name: 'Assistant',
      model: 'local:default',
      instructions: 'You are a helpful assistant. Answer briefly and use your tools for arithmetic and the time.',
      tools: ['calculator', 'current_time'],
    },
    {
      id: 'researcher',
      name: 'Researcher',
      model: 'local:default',
      instructions: 'You research a topic and list the key facts as short bullet points.',
      tools: ['current_time'],
    },
  ],
  teams: [
    {
      id: 'research-team',
      name: 'Research Team',
      mode: 'coordinate',
      model: 'local:default',
      members: ['assistant', 'researcher'],
    },
  ],
  workflows: [
    {
      id: 'content',
      name: 'Content Workflow',
      description: 'Research a topic, then write a short piece from the notes.',
      steps: [
        { name: 'research', agent: 'researcher' },
        { name: 'write', agent: 'assistant' },
      ],
    },
  ],
};
