import pg from 'pg';
import type { RunSignals } from '../run-signals.js';

/** The channels `011-postgres-notify` raises. */
const RUN_EVENTS = 'agentos_run_events';
const RUN_CANCEL = 'agentos_run_cancel';

const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;

type Listener<T extends unknown[]> = (...args: T) => void;

function call<T extends unknown[]>(listeners: Set<Listener<T>>, ...args: T): void {
  for (const listener of listeners) {
    try {
      listener(...args);
    } catch {
      // One failing listener must not keep the signal from the others.
    }
  }
}

/**
 * Run signals over one dedicated LISTEN connection (a pooled connection cannot LISTEN: it is handed to
 * other queries between uses). Connects on the first subscription; a lost connection is re-opened with
 * backoff, and each (re)connect calls the resync listeners, since NOTIFYs sent meanwhile are gone.
 */
export class PgRunSignals implements RunSignals {
  private readonly changed = new Set<Listener<[string]>>();
  private readonly cancelled = new Set<Listener<[string]>>();
  private readonly resync = new Set<Listener<[]>>();
  private client: pg.Client | undefined;
  private started = false;
  private closed = false;
  private delay = RECONNECT_MIN_MS;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  onRunChanged(listener: (runId: string) => void): () => void {
    return this.add(this.changed, listener);
  }

  onCancelRequested(listener: (runId: string) => void): () => void {
    return this.add(this.cancelled, listener);
  }

  onResync(listener: () => void): () => void {
    return this.add(this.resync, listener);
  }

  /** Stops listening for good. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private add<T extends unknown[]>(set: Set<Listener<T>>, listener: Listener<T>): () => void {
    set.add(listener);
    if (!this.started && !this.closed) {
      this.started = true;
      void this.connect();
    }
    return () => set.delete(listener);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client(this.config);
    let lost = false;
    const onLost = (error?: unknown) => {
      if (lost) return;
      lost = true;
      if (error !== undefined) this.onError(error);
      if (this.client === client) this.client = undefined;
      client.end().catch(() => {});
      this.reconnectLater();
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (message) => {
      const runId = message.payload ?? '';
      if (runId === '') return;
      if (message.channel === RUN_EVENTS) call(this.changed, runId);
      else if (message.channel === RUN_CANCEL) call(this.cancelled, runId);
    });
    try {
      await client.connect();
      await client.query(`listen ${RUN_EVENTS}`);
      await client.query(`listen ${RUN_CANCEL}`);
    } catch (error) {
      onLost(error);
      return;
    }
    if (this.closed || lost) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.delay = RECONNECT_MIN_MS;
    call(this.resync);
  }

  private reconnectLater(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connect(), this.delay);
    this.timer.unref();
    this.delay = Math.min(this.delay * 2, RECONNECT_MAX_MS);
  }
}
