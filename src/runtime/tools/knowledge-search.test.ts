import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from '../../../test/fake-openai.js';
import { startTestServer } from '../../../test/helpers.js';
import type { RunningServer } from '../../main.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
const json = async (response: Response): Promise<any> => response.json();

describe('knowledge_search in agent runs', () => {
  let fake: FakeOpenAI;
  let server: RunningServer;
  let contentId: string;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    server = await startTestServer({
      env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key' },
      config: {
        knowledge: [{ id: 'handbook', name: 'Handbook' }],
        agents: [
          { id: 'librarian', name: 'Librarian', model: 'openai:gpt-4o-mini', knowledge: 'handbook' },
          { id: 'offline', name: 'Offline', model: 'local:default', knowledge: 'handbook' },
          { id: 'plain', name: 'Plain', model: 'openai:gpt-4o-mini' },
        ],
      },
    });
    const accepted = await json(
      await post('/knowledge/content?knowledge_id=handbook', {
        text_content: 'Warranty: every kettle is covered for two years from the date of purchase.',
        name: 'warranty.txt',
      }),
    );
    contentId = accepted.id;
    for (;;) {
      const status = await json(await fetch(`${server.url}/knowledge/content/${contentId}/status`));
      if (status.status === 'completed') break;
      if (status.status === 'failed') throw new Error(status.status_message);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });

  it('offers the tool to agents with knowledge, runs it and returns references', async () => {
    fake.reset();
    fake.script(
      { toolCalls: [{ name: 'knowledge_search', arguments: { query: 'kettle warranty' } }] },
      { text: 'Kettles are covered for two years.' },
    );
    const response = await post('/agents/librarian/runs', { message: 'How long is the kettle warranty?' });
    expect(response.status).toBe(200);
    const run = await json(response);
    expect(run.status).toBe('completed');
    expect(run.content).toBe('Kettles are covered for two years.');
    expect(run.references[0]).toMatchObject({ content_id: contentId, knowledge_id: 'handbook', chunk: 0 });
    expect(run.references[0].score).toBeGreaterThan(0);
    expect(run.references[0].content).toContain('two years');
    // The model saw the tool and got the chunk back as the tool result.
    const [first, second] = fake.modelRequests;
    expect(first?.body.tools?.map((tool) => (tool.function as { name: string }).name)).toContain('knowledge_search');
    expect(JSON.stringify(second?.body.messages)).toContain('covered for two years');
    // Stored with the run: reading it back shows the same references.
    const stored = await json(
      await fetch(`${server.url}/agents/librarian/runs/${run.run_id}?session_id=${run.session_id}`),
    );
    expect(stored.references).toEqual(run.references);
  });

  it('searches only the workspace of the run', async () => {
    fake.reset();
    fake.script(
      { toolCalls: [{ name: 'knowledge_search', arguments: { query: 'kettle warranty' } }] },
      { text: 'Nothing found.' },
    );
    const run = await json(
      await post('/agents/librarian/runs', { message: 'kettle warranty?' }, { 'x-workspace-id': 'tenant-b' }),
    );
    expect(run.status).toBe('completed');
    expect(run.references).toBeUndefined();
    expect(JSON.stringify(fake.modelRequests[1]?.body.messages)).not.toContain('covered for two years');
  });

  it('does not offer the tool to agents without knowledge', async () => {
    fake.reset();
    await post('/agents/plain/runs', { message: 'hello' });
    expect(fake.modelRequests[0]?.body.tools ?? []).toEqual([]);
  });

  it('lets the offline local model answer from the knowledge base with references', async () => {
    const run = await json(
      await post('/agents/offline/runs', { message: 'Search the handbook for the kettle warranty' }),
    );
    expect(run.status).toBe('completed');
    expect(run.tools?.[0]?.tool_name).toBe('knowledge_search');
    expect(run.content).toContain('two years');
    expect(run.references?.[0]?.content_id).toBe(contentId);
  });
});
