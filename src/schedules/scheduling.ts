/**
 * Wires the schedule engine and the event bus of one process: built with the services, bound to the
 * app once it exists (for in-process calls), started by the server entry after it listens, stopped
 * before the store closes.
 * @module
 */

import { createDeliverer } from '../bus/deliverers.js';
import { EventBus } from '../bus/event-bus.js';
import type { AgentOsConfig } from '../config/index.js';
import type { Logger } from '../logging/logger.js';
import type { RunManager } from '../runtime/run-manager.js';
import type { Store } from '../store/types.js';
import { ScheduleEngine } from './engine.js';
import { createScheduleExecutor, type Injector } from './executor.js';
import { InternalPrincipals } from './internal-principal.js';

/** The scheduling part of the services. */
export interface Scheduling {
  engine: ScheduleEngine;
  bus: EventBus;
  internal: InternalPrincipals;
  /** Gives firings and subscribers the app to call in-process (`app.inject`). */
  bindApp(app: { inject: (request: object) => PromiseLike<unknown> }): void;
  /** Starts the bus dispatcher, and the engine unless `schedules.enabled` is false. */
  start(): void;
  stop(timeoutMs?: number): Promise<void>;
}

/** Options of {@link createScheduling}. */
export interface CreateSchedulingOptions {
  store: Store;
  config: AgentOsConfig;
  runs: RunManager;
  logger: Logger;
  /** Lease owner id of this process (the run manager's instance id). */
  worker: string;
  now?: () => number;
}

/** Builds the engine and the bus, not started. */
export function createScheduling(options: CreateSchedulingOptions): Scheduling {
  const { store, config, runs, logger, worker } = options;
  const internal = new InternalPrincipals();
  let injector: Injector | undefined;
  const inject = () => injector;
  const bus = new EventBus({
    store: store.eventBus,
    settings: config.events,
    deliver: createDeliverer({ store, runs, internal, inject }),
    logger,
    worker,
    ...(options.now ? { now: options.now } : {}),
  });
  const engine = new ScheduleEngine({
    store: store.schedules,
    execute: createScheduleExecutor({ runs, internal, inject, publish: (input) => bus.publish(input) }),
    logger,
    worker,
    tickMs: config.schedules.tick_ms,
    misfireGraceMs: config.schedules.misfire_grace_ms,
    ...(options.now ? { now: options.now } : {}),
  });
  return {
    engine,
    bus,
    internal,
    bindApp(app) {
      injector = async (request) => {
        const response = (await app.inject(request)) as {
          statusCode: number;
          body: string;
          headers: Record<string, unknown>;
        };
        return { statusCode: response.statusCode, body: response.body, headers: response.headers };
      };
    },
    start() {
      bus.start();
      if (config.schedules.enabled) engine.start();
    },
    async stop(timeoutMs = 5000) {
      await Promise.all([engine.stop(timeoutMs), bus.stop(timeoutMs)]);
    },
  };
}
