/**
 * Paging shared by every Kysely store: one default and one ceiling for `limit`, and `page` from 1.
 * @module
 */

/** Items per page when a list names no `limit`. */
export const DEFAULT_LIMIT = 20;
/** The most items one page may hold, whatever the caller asks. */
export const MAX_LIMIT = 1000;

/** `limit` clamped to 1…{@link MAX_LIMIT} and the row offset of `page` (1-based). */
export function pageBounds(request: { page?: number | undefined; limit?: number | undefined }): {
  limit: number;
  offset: number;
} {
  const limit = Math.min(Math.max(Math.trunc(request.limit ?? DEFAULT_LIMIT), 1), MAX_LIMIT);
  const page = Math.max(Math.trunc(request.page ?? 1), 1);
  return { limit, offset: (page - 1) * limit };
}
