import { beforeAll, describe, expect, it } from 'vitest';
import { useFakeUpstreamServer } from '../../../test/helpers.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
const json = async (response: Response): Promise<any> => response.json();

describe('knowledge_search in agent runs', () => {
  // Each test resets and scripts the fake itself.
  const testServer = useFakeUpstreamServer({
    resetEachTest: false,
    config: {
      knowledge: [{ id: 'handbook', name: 'Handbook' }],
      agents: [
        { id: 'librarian', name: 'Librarian', model: 'openai:gpt-4o-mini', knowledge: 'handbook' },
        { id: 'offline', name: 'Offline', model: 'local:default', knowledge: 'handbook' },
        { id: 'plain', name: 'Plain', model: 'openai:gpt-4o-mini' },
      ],
    },
  });
  let contentId: string;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${testServer.server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    const accepted = await json(
      await post('/knowledge/content?knowledge_id=handbook', {
        text_content: 'Warranty: every kettle is covered for two years from the date of purchase.',
        name: 'warranty.txt',
      }),
    );
    contentId = accepted.id;
    for (;;) {
      const status = await json(await fetch(`${testServer.server.url}/knowledge/content/${contentId}/status`));
      if (status.status === 'completed') break;
      if (status.status === 'failed') throw new Error(status.status_message);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  });

  it('offers the tool to agents with knowledge, runs it and returns references', async () => {
    testServer.fake.reset();
    testServer.fake.script(
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
    const [first, second] = testServer.fake.modelRequests;
    expect(first?.body.tools?.map((tool) => (tool.function as { name: string }).name)).toContain('knowledge_search');
    expect(JSON.stringify(second?.body.messages)).toContain('covered for two years');
    // Stored with the run: reading it back shows the same references.
    const stored = await json(
      await fetch(`${testServer.server.url}/agents/librarian/runs/${run.run_id}?session_id=${run.session_id}`),
    );
    expect(stored.references).toEqual(run.references);
  });

  it('searches only the workspace of the run', async () => {
    testServer.fake.reset();
    testServer.fake.script(
      { toolCalls: [{ name: 'knowledge_search', arguments: { query: 'kettle warranty' } }] },
      { text: 'Nothing found.' },
    );
    const run = await json(
      await post('/agents/librarian/runs', { message: 'kettle warranty?' }, { 'x-workspace-id': 'tenant-b' }),
    );
    expect(run.status).toBe('completed');
    expect(run.references).toBeUndefined();
    expect(JSON.stringify(testServer.fake.modelRequests[1]?.body.messages)).not.toContain('covered for two years');
  });

  it('does not offer the tool to agents without knowledge', async () => {
    testServer.fake.reset();
    await post('/agents/plain/runs', { message: 'hello' });
    expect(testServer.fake.modelRequests[0]?.body.tools ?? []).toEqual([]);
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
