import { describe, expect, it } from 'vitest';
import type { ToolExecutionContext } from '../types.js';
import { createCurrentTimeTool } from './current-time.js';

const context: ToolExecutionContext = {
  abortSignal: new AbortController().signal,
  toolCallId: 'call_1',
  runId: 'run',
  sessionId: 'session',
  userId: null,
};

const now = () => new Date('2024-03-05T14:03:07.250Z');

describe('createCurrentTimeTool', () => {
  it('answers in UTC by default', async () => {
    const result = await createCurrentTimeTool({ now }).execute({}, context);

    expect(result).toEqual({
      iso: '2024-03-05T14:03:07.250Z',
      timezone: 'UTC',
      unix: 1709647387,
      formatted: 'Tuesday, 5 March 2024, 14:03:07',
    });
  });

  it('formats the wall-clock time of an IANA zone', async () => {
    const result = await createCurrentTimeTool({ now }).execute({ timezone: 'America/New_York' }, context);

    expect(result).toMatchObject({
      iso: '2024-03-05T14:03:07.250Z',
      timezone: 'America/New_York',
      formatted: 'Tuesday, 5 March 2024, 09:03:07',
    });
  });

  it('rejects an unknown time zone with a clear error', async () => {
    await expect(createCurrentTimeTool({ now }).execute({ timezone: 'Mars/Olympus' }, context)).rejects.toMatchObject({
      code: 'AOS_TOOL_INVALID_INPUT',
      message: expect.stringContaining('Unknown time zone "Mars/Olympus"'),
    });
  });

  it('uses the real clock when none is given', async () => {
    const before = Date.now();
    const result = (await createCurrentTimeTool().execute({}, context)) as { iso: string };

    expect(Date.parse(result.iso)).toBeGreaterThanOrEqual(before - 1);
  });
});
