/**
 * Fixed-size chunking with overlap (Agno's `FixedSizeChunking`, by characters), cutting at the last
 * paragraph, sentence or word break inside the window so a chunk rarely ends mid-word.
 * @module
 */

/** Defaults of {@link chunkText}; a request's `chunk_size` / `chunk_overlap` replace them. */
export const DEFAULT_CHUNK_SIZE = 1500;
export const DEFAULT_CHUNK_OVERLAP = 150;

/** Options of {@link chunkText}. */
export interface ChunkOptions {
  /** Maximum characters per chunk (≥ 1). */
  chunkSize?: number;
  /** Characters repeated from the end of one chunk at the start of the next (< chunkSize). */
  overlap?: number;
}

const BREAKS = ['\n\n', '\n', '. ', '? ', '! ', '; ', ', ', ' '];

/** Splits text into chunks of at most `chunkSize` characters; whitespace-only input gives none. */
export function chunkText(text: string, options: ChunkOptions = {}): string[] {
  const size = Math.max(1, Math.trunc(options.chunkSize ?? DEFAULT_CHUNK_SIZE));
  const overlap = Math.min(Math.max(0, Math.trunc(options.overlap ?? DEFAULT_CHUNK_OVERLAP)), size - 1);
  const normalized = text.replace(/\r\n?/g, '\n').trim();
  const chunks: string[] = [];
  let start = 0;
  while (start < normalized.length) {
    let end = Math.min(start + size, normalized.length);
    if (end < normalized.length) {
      const window = normalized.slice(start, end);
      // Only breaks in the second half of the window: cutting earlier would make tiny chunks.
      for (const mark of BREAKS) {
        const at = window.lastIndexOf(mark);
        if (at > size / 2) {
          end = start + at + mark.length;
          break;
        }
      }
    }
    const chunk = normalized.slice(start, end).trim();
    if (chunk !== '') chunks.push(chunk);
    if (end >= normalized.length) break;
    start = Math.max(end - overlap, start + 1);
  }
  return chunks;
}
