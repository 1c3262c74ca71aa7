/**
 * The live side of one active run: numbers its events (0-based, gapless), keeps them in order, and
 * fans them out to subscribers. A subscriber that joins late gets every event after the index it
 * names, then live ones: replay and subscription happen in one synchronous step, so nothing is
 * missed or sent twice. The events table is the durable copy (see `event-writer.ts`).
 * @module
 */
import type { RunEvent, RunEventInput } from '../events/index.js';

/** Receives events, and a call when the run's stream ends. */
export interface RunSubscriber {
  onEvent(event: RunEvent): void;
  onEnd(): void;
}

/** Fields stamped on every event of the run. */
export interface RunChannelBase {
  runId: string;
  sessionId: string;
  /** Left out by team and workflow runs, whose events name their component in `fields`. */
  agentId?: string | undefined;
  agentName?: string | undefined;
  /** More fields stamped on every event (`team_id`, `team_name`; `workflow_id`, `workflow_name`). */
  fields?: Readonly<Record<string, unknown>> | undefined;
}

/** One active run's event sequence and its subscribers. */
export class RunChannel {
  readonly events: RunEvent[] = [];
  private readonly subscribers = new Set<RunSubscriber>();
  private ended = false;

  constructor(
    private readonly base: RunChannelBase,
    private nextIndex = 0,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** True once the run's stream has ended. */
  get isEnded(): boolean {
    return this.ended;
  }

  /** Numbers, records and delivers one event; returns it as delivered. */
  emit(input: RunEventInput): RunEvent {
    if (this.ended) throw new Error(`Run ${this.base.runId} already ended; cannot emit ${input.event}`);
    const event: RunEvent = {
      created_at: this.now().toISOString(),
      ...(this.base.agentId === undefined ? {} : { agent_id: this.base.agentId }),
      ...(this.base.agentName === undefined ? {} : { agent_name: this.base.agentName }),
      ...this.base.fields,
      run_id: this.base.runId,
      session_id: this.base.sessionId,
      ...input,
      event: input.event,
      event_index: this.nextIndex++,
    };
    this.events.push(event);
    for (const subscriber of this.subscribers) subscriber.onEvent(event);
    return event;
  }

  /**
   * Delivers the events with an index above `afterIndex` (all with -1), then live events until the
   * end. Returns the unsubscribe function.
   */
  subscribe(afterIndex: number, subscriber: RunSubscriber): () => void {
    for (const event of this.events) {
      if (event.event_index > afterIndex) subscriber.onEvent(event);
    }
    if (this.ended) {
      subscriber.onEnd();
      return () => {};
    }
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /** Ends the stream for every subscriber. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const subscriber of this.subscribers) subscriber.onEnd();
    this.subscribers.clear();
  }
}
