import { describe, expect, it } from 'vitest';
import { buildTestApp, memoryLogger } from '../../test/helpers.js';
import { redactUrl } from './redact-url.js';

describe('logging', () => {
  it('redacts credentials in query strings', () => {
    expect(redactUrl('/ws/agents/a?token=secret123&x=1')).toBe('/ws/agents/a?token=[redacted]&x=1');
    expect(redactUrl('/p?x=1&api_key=abc')).toBe('/p?x=1&api_key=[redacted]');
    expect(redactUrl('/plain')).toBe('/plain');
  });

  it('never writes a ?token= value into request logs', async () => {
    const { logger, lines } = memoryLogger('info');
    const test = await buildTestApp({ agents: [{ id: 'a' }] }, {}, logger);
    await test.app.inject({ url: '/ws/agents/a?token=supersecretkey123' });
    await test.close();
    const text = JSON.stringify(lines());
    expect(text).toContain('/ws/agents/a?token=[redacted]');
    expect(text).not.toContain('supersecretkey123');
  });
});
