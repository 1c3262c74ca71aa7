/**
 * The tracer agentos records its spans with: the OpenTelemetry API's `Tracer` and `Span`, feeding the SDK's span
 * processors (its batch processor, the store and OTLP exporters behind it) with `ReadableSpan`s. It replaces the
 * SDK's own tracer and span class on the run path only for speed (issue 10, bench/tracing): in the server their
 * two spans per run cost about 26 µs of the event loop (CPU profile at 800 runs/s: `startSpan` sanitises every
 * attribute object twice, copies it a third time, and builds the sampler's, metrics' and options' objects per
 * span), a twentieth of a whole blocking run. This one validates attributes once, as they are set, keeps times
 * as epoch milliseconds (OTel's `[seconds, nanoseconds]` pairs are made only when an exporter reads them) and
 * decides sampling as the SDK's default `ParentBasedSampler` does. Semantics follow the SDK's `SpanImpl`:
 * the same limits (128 attributes, events and links), status rules, time inputs and end-once rule.
 * @module
 */
import {
  type Attributes,
  type AttributeValue,
  type Context,
  context,
  type Exception,
  type HrTime,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  type Link,
  type Span,
  type SpanContext,
  SpanKind,
  type SpanOptions,
  type SpanStatus,
  SpanStatusCode,
  type TimeInput,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import {
  type IdGenerator,
  type ReadableSpan,
  type Sampler,
  SamplingDecision,
  type SpanProcessor,
  type TimedEvent,
} from '@opentelemetry/sdk-trace-node';

/**
 * Read once: the SDK is CommonJS, and in the bundle (scripts/bundle.mjs) each use of one of its exports is a
 * getter call (about 1 µs per run in a loaded server's profile for the two spans' sampling decisions).
 */
const { NOT_RECORD, RECORD_AND_SAMPLED } = SamplingDecision;

/** The SDK's default limits (`OTEL_SPAN_*_COUNT_LIMIT`). */
const COUNT_LIMIT = 128;

/** `@opentelemetry/core`'s suppress-tracing key (`createContextKey` makes a `Symbol.for` of its description). */
const SUPPRESS_TRACING = Symbol.for('OpenTelemetry SDK Context Key SUPPRESS_TRACING');

/** `@opentelemetry/api`'s key of the active span in a context (also a `Symbol.for`). */
const SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN');

/**
 * What `trace.setSpan(base, span)` returns, made lighter: the API's context copies its parent's Map and makes
 * three closures per context, about 1.2 µs per run in a loaded server's profile for the one a run's chat span
 * hangs under. This one keeps the span and its base, and becomes an API context only when written to.
 */
class SpanContextOver implements Context {
  private written: Context | undefined;

  constructor(
    private readonly base: Context,
    private readonly span: Span,
  ) {}

  getValue(key: symbol): unknown {
    return key === SPAN_KEY ? this.span : this.base.getValue(key);
  }

  setValue(key: symbol, value: unknown): Context {
    return this.full().setValue(key, value);
  }

  deleteValue(key: symbol): Context {
    return this.full().deleteValue(key);
  }

  private full(): Context {
    this.written ??= trace.setSpan(this.base, this.span);
    return this.written;
  }
}

/** `base` with `span` as its span, as `trace.setSpan` makes it (see {@link SpanContextOver}). */
export function contextWithSpan(base: Context, span: Span): Context {
  return new SpanContextOver(base, span);
}

function isPrimitive(value: unknown): boolean {
  const type = typeof value;
  return type === 'string' || type === 'number' || type === 'boolean';
}

/** An attribute value the API allows: a primitive, or an array of one primitive type (nulls allowed). */
function isAttributeValue(value: unknown): value is AttributeValue {
  if (isPrimitive(value)) return true;
  if (!Array.isArray(value)) return false;
  let type: string | undefined;
  for (const item of value) {
    if (item == null) continue;
    if (!isPrimitive(item) || (type !== undefined && typeof item !== type)) return false;
    type = typeof item;
  }
  return true;
}

/** `[seconds, nanoseconds]` of epoch milliseconds. */
export function msToHrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  return nanos >= 1e9 ? [seconds + 1, nanos - 1e9] : [seconds, nanos];
}

/** Epoch milliseconds of an OTel `[seconds, nanoseconds]` time. */
export function hrToMs(time: readonly [number, number]): number {
  return time[0] * 1000 + time[1] / 1e6;
}

function isHrTime(value: unknown): value is HrTime {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'number' && typeof value[1] === 'number';
}

/** What a {@link RecordingSpan} needs from its tracer. */
interface SpanSink {
  readonly processors: readonly SpanProcessor[];
  readonly resource: Resource;
  readonly instrumentationScope: { name: string; version?: string };
}

// Shared until a span has events, links or a status (most of a run's spans have none of the first two): each
// allocation on the run path costs a loaded server several times what it costs alone (bench/tracing).
const NO_LINKS: Link[] = Object.freeze([]) as unknown as Link[];
const NO_EVENTS: TimedEvent[] = Object.freeze([]) as unknown as TimedEvent[];
const UNSET: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET });
const OK: SpanStatus = Object.freeze({ code: SpanStatusCode.OK });

/** A recorded span: the API's `Span` while open, the SDK's `ReadableSpan` for processors and exporters. */
export class RecordingSpan implements Span, ReadableSpan {
  readonly attributes: Attributes = {};
  links: Link[] = NO_LINKS;
  events: TimedEvent[] = NO_EVENTS;
  status: SpanStatus = UNSET;
  /** Epoch milliseconds (fractional). */
  readonly startMs: number;
  endMs = 0;
  ended = false;
  droppedAttributesCount = 0;
  droppedEventsCount = 0;
  droppedLinksCount = 0;
  private attributeCount = 0;
  /** Epoch ms minus `performance.now()` when the span started: turns performance times into epoch times. */
  private readonly clockOffset: number;
  private readonly startPerf: number;
  private readonly startProvided: boolean;

  constructor(
    private readonly sink: SpanSink,
    public name: string,
    private readonly context: SpanContext,
    readonly parentSpanContext: SpanContext | undefined,
    readonly kind: SpanKind,
    startTime: TimeInput | undefined,
  ) {
    const now = Date.now();
    this.startPerf = performance.now();
    this.clockOffset = now - this.startPerf;
    this.startProvided = startTime != null;
    this.startMs = startTime == null ? now : this.toMs(startTime);
  }

  spanContext(): SpanContext {
    return this.context;
  }

  get resource(): Resource {
    return this.sink.resource;
  }

  get instrumentationScope(): { name: string; version?: string } {
    return this.sink.instrumentationScope;
  }

  get startTime(): HrTime {
    return msToHrTime(this.startMs);
  }

  get endTime(): HrTime {
    return this.ended ? msToHrTime(this.endMs) : [0, 0];
  }

  get duration(): HrTime {
    return this.ended ? msToHrTime(this.endMs - this.startMs) : [-1, -1];
  }

  /** Epoch ms of a time input, as the SDK reads them (a number not after `performance.now()` is a performance time). */
  private toMs(time: TimeInput): number {
    if (typeof time === 'number') return time <= performance.now() ? time + this.clockOffset : time;
    if (time instanceof Date) return time.getTime();
    if (isHrTime(time)) return hrToMs(time);
    return Date.now();
  }

  /** Now on the span's clock: its start plus the time since, unless the caller gave the start (then the wall clock). */
  private now(): number {
    return this.startProvided ? Date.now() : this.startMs + (performance.now() - this.startPerf);
  }

  setAttribute(key: string, value: AttributeValue | undefined): this {
    if (value == null || this.ended || key.length === 0 || !isAttributeValue(value)) return this;
    const attributes = this.attributes as Record<string, AttributeValue>;
    if (attributes[key] === undefined) {
      if (this.attributeCount >= COUNT_LIMIT) {
        this.droppedAttributesCount++;
        return this;
      }
      this.attributeCount++;
    }
    attributes[key] = value;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    for (const key in attributes) this.setAttribute(key, attributes[key]);
    return this;
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.ended) return this;
    let attributes: Attributes | undefined;
    if (attributesOrTime == null || typeof attributesOrTime === 'number' || attributesOrTime instanceof Date) {
      time ??= attributesOrTime as TimeInput | undefined;
    } else if (isHrTime(attributesOrTime)) {
      time ??= attributesOrTime;
    } else {
      attributes = attributesOrTime as Attributes;
    }
    if (this.events === NO_EVENTS) this.events = [];
    if (this.events.length >= COUNT_LIMIT) {
      this.events.shift();
      this.droppedEventsCount++;
    }
    const kept: Attributes = {};
    for (const key in attributes) if (isAttributeValue(attributes[key])) kept[key] = attributes[key];
    this.events.push({
      name,
      attributes: kept,
      time: msToHrTime(time == null ? this.now() : this.toMs(time)),
      droppedAttributesCount: 0,
    });
    return this;
  }

  addLink(link: Link): this {
    if (this.ended) return this;
    if (this.links === NO_LINKS) this.links = [];
    if (this.links.length >= COUNT_LIMIT) {
      this.links.shift();
      this.droppedLinksCount++;
    }
    this.links.push(link);
    return this;
  }

  addLinks(links: Link[]): this {
    for (const link of links) this.addLink(link);
    return this;
  }

  /** As the SDK: UNSET is ignored, OK is final, a message is kept only on ERROR. */
  setStatus(status: SpanStatus): this {
    if (this.ended || status.code === SpanStatusCode.UNSET || this.status.code === SpanStatusCode.OK) return this;
    this.status =
      status.code === SpanStatusCode.ERROR && typeof status.message === 'string'
        ? { code: status.code, message: status.message }
        : status.code === SpanStatusCode.OK
          ? OK
          : { code: status.code };
    return this;
  }

  updateName(name: string): this {
    if (!this.ended) this.name = name;
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.ended) return;
    const end = endTime == null ? this.now() : this.toMs(endTime);
    // An end before the start is recorded as a zero-length span, as the SDK does.
    this.endMs = end < this.startMs ? this.startMs : end;
    this.ended = true;
    for (const processor of this.sink.processors) processor.onEnd(this);
  }

  isRecording(): boolean {
    return !this.ended;
  }

  /** As the SDK: an `exception` event with the error's type, message and stack. */
  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: Attributes = {};
    if (typeof exception === 'string') attributes['exception.message'] = exception;
    else if (exception) {
      const type = exception.code?.toString() ?? exception.name;
      if (type) attributes['exception.type'] = type;
      if (exception.message) attributes['exception.message'] = exception.message;
      if (exception.stack) attributes['exception.stacktrace'] = exception.stack;
    }
    if (attributes['exception.type'] || attributes['exception.message']) this.addEvent('exception', attributes, time);
  }
}

/** Options of {@link RecordingTracer}. */
export interface RecordingTracerOptions {
  processors: readonly SpanProcessor[];
  idGenerator: IdGenerator;
  /** Decides for new traces (e.g. a ratio); unset: every trace. Children always follow their parent. */
  rootSampler?: Sampler | undefined;
  resource: Resource;
  instrumentationScope: { name: string; version?: string };
  /** Attribute keys a span copies from a recording parent that has them, unless it sets them itself. */
  inherited?: readonly string[];
}

/** Starts {@link RecordingSpan}s; see the module comment. */
export class RecordingTracer implements Tracer, SpanSink {
  readonly processors: readonly SpanProcessor[];
  readonly resource: Resource;
  readonly instrumentationScope: { name: string; version?: string };
  private readonly ids: IdGenerator;
  private readonly rootSampler: Sampler | undefined;
  private readonly inherited: readonly string[];

  constructor(options: RecordingTracerOptions) {
    this.processors = options.processors;
    this.ids = options.idGenerator;
    this.rootSampler = options.rootSampler;
    this.resource = options.resource;
    this.instrumentationScope = options.instrumentationScope;
    this.inherited = options.inherited ?? [];
  }

  startSpan(name: string, options: SpanOptions = {}, parentContext: Context = context.active()): Span {
    const ctx = options.root ? trace.deleteSpan(parentContext) : parentContext;
    if (ctx.getValue(SUPPRESS_TRACING) === true) return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    const parentSpan = trace.getSpan(ctx);
    const recordingParent = parentSpan instanceof RecordingSpan ? parentSpan : undefined;
    const candidate = parentSpan?.spanContext();
    // Ids this tracer made are valid; only a foreign parent (e.g. an incoming `traceparent`) is checked.
    const parent = recordingParent || (candidate && isSpanContextValid(candidate)) ? candidate : undefined;
    const kind = options.kind ?? SpanKind.INTERNAL;
    const traceId = parent ? parent.traceId : this.ids.generateTraceId();
    let traceState = parent?.traceState;
    // ParentBasedSampler: a child records when its parent was sampled; a root asks the root sampler.
    let decision: SamplingDecision = RECORD_AND_SAMPLED;
    if (parent) {
      if ((parent.traceFlags & TraceFlags.SAMPLED) === 0) decision = NOT_RECORD;
    } else if (this.rootSampler) {
      const result = this.rootSampler.shouldSample(
        ctx,
        traceId,
        name,
        kind,
        options.attributes ?? {},
        options.links ?? [],
      );
      decision = result.decision;
      traceState = result.traceState ?? traceState;
    }
    const spanContext: SpanContext = {
      traceId,
      spanId: this.ids.generateSpanId(),
      traceFlags: decision === RECORD_AND_SAMPLED ? TraceFlags.SAMPLED : TraceFlags.NONE,
    };
    if (traceState) spanContext.traceState = traceState;
    if (decision === NOT_RECORD) return trace.wrapSpanContext(spanContext);
    const span = new RecordingSpan(this, name, spanContext, parent, kind, options.startTime);
    if (options.attributes) span.setAttributes(options.attributes);
    if (recordingParent) {
      for (const key of this.inherited) {
        if (span.attributes[key] === undefined) span.setAttribute(key, recordingParent.attributes[key]);
      }
    }
    if (options.links) span.addLinks(options.links);
    for (const processor of this.processors) processor.onStart(span, ctx);
    return span;
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    parentContext: Context,
    fn: F,
  ): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    ...rest: [F] | [SpanOptions, F] | [SpanOptions, Context, F]
  ): ReturnType<F> {
    const fn = rest[rest.length - 1] as F;
    const options = rest.length > 1 ? (rest[0] as SpanOptions) : {};
    const parentContext = rest.length > 2 ? (rest[1] as Context) : context.active();
    const span = this.startSpan(name, options, parentContext);
    return context.with(trace.setSpan(parentContext, span), () => fn(span)) as ReturnType<F>;
  }
}
