/**
 * Optional export to an OpenTelemetry collector: OTLP over HTTP with the JSON encoding
 * (`tracing.otlp.endpoint`, usually `…:4318/v1/traces`). Written against the OTLP spec instead of
 * pulling in the protobuf-based exporter packages; a failed post is logged and the batch dropped.
 * @module
 */
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-node';
import type { Logger } from '../logging/logger.js';
import { VERSION } from '../version.js';

const SUCCESS = 0;
const FAILED = 1;
const TIMEOUT_MS = 10_000;

type AnyValue = { stringValue: string } | { intValue: string } | { doubleValue: number } | { boolValue: boolean };

function anyValue(value: unknown): AnyValue {
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
  return { stringValue: typeof value === 'string' ? value : JSON.stringify(value) };
}

function nanos(time: readonly [number, number]): string {
  return (BigInt(time[0]) * 1_000_000_000n + BigInt(time[1])).toString();
}

/** The OTLP/JSON request body for a batch of spans. */
export function otlpBody(spans: readonly ReadableSpan[]): Record<string, unknown> {
  return {
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: 'agentos' } },
            { key: 'service.version', value: { stringValue: VERSION } },
          ],
        },
        scopeSpans: [
          {
            scope: { name: 'agentos', version: VERSION },
            spans: spans.map((span) => ({
              traceId: span.spanContext().traceId,
              spanId: span.spanContext().spanId,
              ...(span.parentSpanContext ? { parentSpanId: span.parentSpanContext.spanId } : {}),
              name: span.name,
              // OTLP numbers span kinds from 1 (INTERNAL); the API from 0.
              kind: span.kind + 1,
              startTimeUnixNano: nanos(span.startTime),
              endTimeUnixNano: nanos(span.endTime),
              attributes: Object.entries(span.attributes).map(([key, value]) => ({ key, value: anyValue(value) })),
              status: { code: span.status.code, ...(span.status.message ? { message: span.status.message } : {}) },
            })),
          },
        ],
      },
    ],
  };
}

/** Posts batches to an OTLP/HTTP JSON endpoint. */
export class OtlpJsonExporter implements SpanExporter {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly target: { endpoint: string; headers: Record<string, string> },
    private readonly logger: Logger,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: { code: number; error?: Error }) => void): void {
    const post = fetch(this.target.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...this.target.headers },
      body: JSON.stringify(otlpBody(spans)),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    })
      .then(async (response) => {
        await response.arrayBuffer().catch(() => undefined);
        if (!response.ok) throw new Error(`OTLP endpoint answered ${response.status}`);
        resultCallback({ code: SUCCESS });
      })
      .catch((error: unknown) => {
        this.logger.warn({ err: error, spans: spans.length }, 'exporting spans over OTLP failed');
        resultCallback({ code: FAILED, error: error instanceof Error ? error : new Error(String(error)) });
      })
      .finally(() => this.pending.delete(post));
    this.pending.add(post);
  }

  async forceFlush(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
  }
}
