/**
 * Engine probes spawn a process, so their answer is kept: a working engine stays working for the process's
 * life, while a failure is asked again after {@link RETRY_FAILED_PROBE_MS}, so installing the engine
 * (`npm run setup:voice`) makes voice available without a restart.
 * @module
 */

/** How long a failed probe's reason is kept before the engine is tried again. */
export const RETRY_FAILED_PROBE_MS = 30_000;

/** Wraps `check` (resolves `null` when usable, else the reason) with the caching described above. */
export function cachedProbe(check: () => Promise<string | null>, now: () => number = Date.now) {
  let cached: { result: Promise<string | null>; failedAt: number | null } | undefined;
  return (): Promise<string | null> => {
    if (cached && (cached.failedAt === null || now() - cached.failedAt < RETRY_FAILED_PROBE_MS)) {
      return cached.result;
    }
    const entry: { result: Promise<string | null>; failedAt: number | null } = { result: check(), failedAt: null };
    cached = entry;
    entry.result.then((reason) => {
      if (reason !== null) entry.failedAt = now();
    });
    return entry.result;
  };
}
