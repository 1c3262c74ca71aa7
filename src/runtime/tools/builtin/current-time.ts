/**
 * The `current_time` built-in tool: the current date and time, in UTC or an IANA time zone.
 * @module
 */
import { z } from 'zod';
import { AgentOsError } from '../../../errors/index.js';
import type { ToolDefinition } from '../types.js';

/** Options of {@link createCurrentTimeTool}. */
export interface CurrentTimeToolOptions {
  /** The clock; tests pass a fixed one. */
  now?: () => Date;
}

/** What the current_time tool returns. */
export interface CurrentTimeResult {
  /** The instant in UTC, ISO-8601 (`2024-03-05T14:03:07.000Z`). */
  iso: string;
  /** The IANA zone `formatted` is written in. */
  timezone: string;
  /** Seconds since the Unix epoch. */
  unix: number;
  /** Wall-clock time in `timezone`, e.g. `Tuesday, 5 March 2024, 15:03:07`. */
  formatted: string;
}

const currentTimeInput = z.object({
  timezone: z
    .string()
    .max(64)
    .optional()
    .describe('An IANA time zone such as "Europe/Berlin" or "America/New_York"; default UTC.'),
});

function formatterFor(timezone: string): Intl.DateTimeFormat {
  try {
    return new Intl.DateTimeFormat('en-GB', {
      timeZone: timezone,
      weekday: 'long',
      day: 'numeric',
      month: 'long',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
  } catch {
    throw new AgentOsError(
      'AOS_TOOL_INVALID_INPUT',
      `Unknown time zone "${timezone}"; use an IANA name such as "UTC" or "Europe/Berlin"`,
    );
  }
}

// Assembled from parts rather than `format()`, whose punctuation changes between ICU versions.
function format(date: Date, formatter: Intl.DateTimeFormat): string {
  const parts = Object.fromEntries(formatter.formatToParts(date).map((part) => [part.type, part.value]));
  return `${parts.weekday}, ${parts.day} ${parts.month} ${parts.year}, ${parts.hour}:${parts.minute}:${parts.second}`;
}

/**
 * Creates the `current_time` built-in tool (`{ timezone? }` → `{ iso, timezone, unix, formatted }`).
 * @example createCurrentTimeTool({ now: () => new Date('2024-03-05T14:03:07Z') })
 */
export function createCurrentTimeTool(options: CurrentTimeToolOptions = {}): ToolDefinition {
  const now = options.now ?? (() => new Date());
  return {
    name: 'current_time',
    description: 'Get the current date and time, in UTC or in a given IANA time zone.',
    inputSchema: currentTimeInput,
    async execute(args): Promise<CurrentTimeResult> {
      const { timezone: requested } = currentTimeInput.parse(args);
      const formatter = formatterFor(requested?.trim() || 'UTC');
      const date = now();
      return {
        iso: date.toISOString(),
        // The canonical spelling (`europe/berlin` → `Europe/Berlin`), as Intl resolved it.
        timezone: formatter.resolvedOptions().timeZone,
        unix: Math.floor(date.getTime() / 1000),
        formatted: format(date, formatter),
      };
    },
  };
}
