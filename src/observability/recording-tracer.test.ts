import { context, createContextKey, ROOT_CONTEXT, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-node';
import { describe, expect, it } from 'vitest';
import { contextWithSpan, msToHrTime, RecordingSpan, RecordingTracer } from './recording-tracer.js';
import { TimeOrderedIdGenerator } from './tracing.js';

function setup(options: { rootSampler?: TraceIdRatioBasedSampler; processors?: SpanProcessor[] } = {}) {
  const exporter = new InMemorySpanExporter();
  const tracer = new RecordingTracer({
    processors: [new SimpleSpanProcessor(exporter), ...(options.processors ?? [])],
    idGenerator: new TimeOrderedIdGenerator(),
    rootSampler: options.rootSampler,
    resource: resourceFromAttributes({ 'service.name': 'agentos-test' }),
    instrumentationScope: { name: 'agentos' },
    inherited: ['agentos.workspace_id'],
  });
  return { tracer, exporter };
}

describe('RecordingTracer', () => {
  it('records a parent and child through the SDK span processors, with ids, parents and inherited keys', () => {
    const { tracer, exporter } = setup();
    const root = tracer.startSpan('invoke_agent a', {
      attributes: { 'agentos.workspace_id': 'ws1', 'gen_ai.operation.name': 'invoke_agent' },
    });
    const child = tracer.startSpan(
      'chat m',
      { attributes: { 'gen_ai.usage.input_tokens': 3 } },
      trace.setSpan(ROOT_CONTEXT, root),
    );
    child.end();
    root.end();
    const [first, second] = exporter.getFinishedSpans();
    expect(first?.name).toBe('chat m');
    expect(second?.name).toBe('invoke_agent a');
    expect(first?.spanContext().traceId).toBe(root.spanContext().traceId);
    expect(first?.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(second?.parentSpanContext).toBeUndefined();
    expect(first?.attributes).toEqual({ 'gen_ai.usage.input_tokens': 3, 'agentos.workspace_id': 'ws1' });
    expect(root.spanContext().traceFlags).toBe(TraceFlags.SAMPLED);
    expect(root.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(root.spanContext().spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(root.spanContext().spanId).not.toBe(child.spanContext().spanId);
    expect(second?.resource.attributes['service.name']).toBe('agentos-test');
    expect(second?.ended).toBe(true);
  });

  it('contextWithSpan reads, writes and parents as trace.setSpan does', () => {
    const { tracer, exporter } = setup();
    const other = createContextKey('agentos test key');
    const base = ROOT_CONTEXT.setValue(other, 'kept');
    const root = tracer.startSpan('invoke_agent a', { attributes: { 'agentos.workspace_id': 'ws1' } });
    const light = contextWithSpan(base, root);
    expect(trace.getSpan(light)).toBe(root);
    expect(light.getValue(other)).toBe('kept');
    // Written to, it behaves as the API's own context: the new value, the span and the base's values.
    const tool = tracer.startSpan('execute_tool t', {}, light);
    const nested = trace.setSpan(light, tool);
    expect(trace.getSpan(nested)).toBe(tool);
    expect(nested.getValue(other)).toBe('kept');
    expect(trace.getSpan(light)).toBe(root);
    expect(trace.getSpan(trace.deleteSpan(light))).toBeUndefined();
    expect(trace.deleteSpan(light).getValue(other)).toBe('kept');
    tracer.startSpan('inner', {}, nested).end();
    tool.end();
    root.end();
    const [inner, toolSpan] = exporter.getFinishedSpans();
    expect(toolSpan?.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(toolSpan?.attributes['agentos.workspace_id']).toBe('ws1');
    expect(inner?.parentSpanContext?.spanId).toBe(tool.spanContext().spanId);
  });

  it('keeps start and end times given as epoch ms, Date or HrTime, and clamps an end before the start', () => {
    const { tracer, exporter } = setup();
    tracer.startSpan('a', { startTime: 1_700_000_000_123.5 }).end(1_700_000_000_223.5);
    tracer.startSpan('b', { startTime: new Date(1_700_000_000_000) }).end([1_700_000_001, 500_000_000]);
    tracer.startSpan('c', { startTime: 1_700_000_000_500 }).end(1_700_000_000_400);
    const [a, b, c] = exporter.getFinishedSpans() as RecordingSpan[];
    expect(a?.startTime).toEqual([1_700_000_000, 123_500_000]);
    expect(a?.duration).toEqual([0, 100_000_000]);
    expect(b?.endTime).toEqual([1_700_000_001, 500_000_000]);
    expect(b?.duration).toEqual([1, 500_000_000]);
    expect(c?.endMs).toBe(c?.startMs);
  });

  it('measures an unended-at-start span on the monotonic clock and reads performance times as such', async () => {
    const { tracer, exporter } = setup();
    const before = Date.now();
    const span = tracer.startSpan('timed');
    await new Promise((resolve) => setTimeout(resolve, 20));
    span.end();
    const perf = tracer.startSpan('perf', { startTime: performance.now() });
    perf.end();
    const [timed, perfSpan] = exporter.getFinishedSpans() as RecordingSpan[];
    expect(timed?.startMs).toBeGreaterThanOrEqual(before);
    expect((timed?.endMs ?? 0) - (timed?.startMs ?? 0)).toBeGreaterThanOrEqual(15);
    // A performance.now() start is converted to epoch time, not read as a 1970 date.
    expect(Math.abs((perfSpan?.startMs ?? 0) - Date.now())).toBeLessThan(1_000);
  });

  it('follows the SDK rules for attributes, status, names and ending', () => {
    const { tracer, exporter } = setup();
    const span = tracer.startSpan('s');
    span.setAttribute('ok', 'yes');
    span.setAttribute('list', ['a', null, 'b'] as unknown as string[]);
    span.setAttribute('mixed', ['a', 1] as unknown as string[]);
    span.setAttribute('object', { a: 1 } as unknown as string);
    span.setAttribute('', 'empty key');
    span.setAttribute('gone', undefined as unknown as string);
    for (let i = 0; i < 200; i++) span.setAttribute(`k${i}`, i);
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    span.updateName('renamed');
    span.end();
    span.setAttribute('late', 1);
    span.setStatus({ code: SpanStatusCode.OK });
    span.end();
    const [stored] = exporter.getFinishedSpans();
    expect(exporter.getFinishedSpans()).toHaveLength(1);
    expect(stored?.name).toBe('renamed');
    expect(stored?.attributes.ok).toBe('yes');
    expect(stored?.attributes.list).toEqual(['a', null, 'b']);
    expect(stored?.attributes).not.toHaveProperty('mixed');
    expect(stored?.attributes).not.toHaveProperty('object');
    expect(stored?.attributes).not.toHaveProperty('late');
    expect(Object.keys(stored?.attributes ?? {})).toHaveLength(128);
    expect(stored?.droppedAttributesCount).toBe(202 - 128);
    expect(stored?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'boom' });
    expect(span.isRecording()).toBe(false);

    const ok = tracer.startSpan('ok');
    ok.setStatus({ code: SpanStatusCode.OK, message: 'dropped' });
    ok.setStatus({ code: SpanStatusCode.ERROR, message: 'too late' });
    ok.end();
    expect(exporter.getFinishedSpans()[1]?.status).toEqual({ code: SpanStatusCode.OK });
  });

  it('records exceptions and events with their attributes', () => {
    const { tracer, exporter } = setup();
    const span = tracer.startSpan('s');
    span.addEvent('checkpoint', { step: 2 }, 1_700_000_000_000);
    span.recordException(new TypeError('bad input'));
    span.end();
    const [stored] = exporter.getFinishedSpans();
    expect(stored?.events.map((event) => event.name)).toEqual(['checkpoint', 'exception']);
    expect(stored?.events[0]?.time).toEqual(msToHrTime(1_700_000_000_000));
    expect(stored?.events[1]?.attributes).toMatchObject({
      'exception.type': 'TypeError',
      'exception.message': 'bad input',
    });
  });

  it('samples roots with the root sampler; children follow their parent', () => {
    const { tracer, exporter } = setup({ rootSampler: new TraceIdRatioBasedSampler(0) });
    const root = tracer.startSpan('dropped');
    const child = tracer.startSpan('child', {}, trace.setSpan(ROOT_CONTEXT, root));
    expect(root).not.toBeInstanceOf(RecordingSpan);
    expect(root.isRecording()).toBe(false);
    expect(child.isRecording()).toBe(false);
    expect(child.spanContext().traceId).toBe(root.spanContext().traceId);
    root.end();
    child.end();
    expect(exporter.getFinishedSpans()).toHaveLength(0);

    const all = setup({ rootSampler: new TraceIdRatioBasedSampler(1) });
    all.tracer.startSpan('kept').end();
    expect(all.exporter.getFinishedSpans()).toHaveLength(1);
  });

  it('continues a remote parent and drops spans while tracing is suppressed', () => {
    const { tracer, exporter } = setup();
    const remote = trace.wrapSpanContext({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    tracer.startSpan('server', {}, trace.setSpan(ROOT_CONTEXT, remote)).end();
    const invalid = trace.wrapSpanContext({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 1 });
    const fresh = tracer.startSpan('fresh', {}, trace.setSpan(ROOT_CONTEXT, invalid));
    fresh.end();
    const suppressed = ROOT_CONTEXT.setValue(Symbol.for('OpenTelemetry SDK Context Key SUPPRESS_TRACING'), true);
    tracer.startSpan('suppressed', {}, suppressed).end();
    const [server, made] = exporter.getFinishedSpans();
    expect(exporter.getFinishedSpans()).toHaveLength(2);
    expect(server?.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(server?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(made?.parentSpanContext).toBeUndefined();
    expect(made?.spanContext().traceId).not.toBe('0'.repeat(32));
  });

  it('runs startActiveSpan callbacks with the span active and calls processors on start', () => {
    const started: string[] = [];
    const { tracer } = setup({
      processors: [
        {
          onStart: (span) => started.push((span as RecordingSpan).name),
          onEnd: () => {},
          forceFlush: async () => {},
          shutdown: async () => {},
        },
      ],
    });
    const result = tracer.startActiveSpan('active', { attributes: { a: 1 } }, ROOT_CONTEXT, (span) => {
      span.end();
      return span.spanContext().spanId;
    });
    expect(result).toMatch(/^[0-9a-f]{16}$/);
    expect(started).toEqual(['active']);
    expect(tracer.startActiveSpan('plain', (span) => span instanceof RecordingSpan)).toBe(true);
    expect(context.active()).toBe(ROOT_CONTEXT);
  });
});
