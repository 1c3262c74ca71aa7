/**
 * The root surface's page parameters and `meta` block (CONTRACT.md §5), shared by every list route.
 * @module
 */
import { z } from 'zod';

/** `page` (from 1) and `limit` (1..1000, default 20) query parameters. */
export const pageQuery = z.object({
  page: z.coerce.number().int().min(1).default(1),
  limit: z.coerce.number().int().min(1).max(1000).default(20),
});

/** The `meta` block of a list response. */
export const pageMeta = z.object({
  page: z.number().int(),
  limit: z.number().int(),
  total_count: z.number().int(),
  total_pages: z.number().int(),
});

/** Builds `meta` for a page of a list whose total is known. */
export function pageMetaOf(total: number, request: { page: number; limit: number }): z.infer<typeof pageMeta> {
  return {
    page: request.page,
    limit: request.limit,
    total_count: total,
    total_pages: Math.ceil(total / request.limit),
  };
}

/** Slices an in-memory list (config-defined components) into a page with its `meta`. */
export function paginate<T>(items: T[], request: { page: number; limit: number }) {
  const start = (request.page - 1) * request.limit;
  return { items: items.slice(start, start + request.limit), meta: pageMetaOf(items.length, request) };
}
