/**
 * Cuts a stream of text deltas into sentences for sentence-level TTS pipelining (agtOS' Stream
 * Coordinator): the first sentence is spoken while the model still writes the rest.
 * @module
 */

/** A sentence ends at `.`, `!`, `?` or `…` (closing quotes and brackets kept) followed by whitespace. */
// `\u2026` rather than the character itself: one character above U+00FF in the bundle makes V8 keep the whole
// chunk's source as a two-byte string, twice its size in memory (scripts/bundle.mjs).
const SENTENCE_END = /[.!?\u2026]+["')\]]*\s+/g;
/** A run-on clause longer than this is cut at its last comma, semicolon or colon, so speech starts sooner. */
const MAX_CLAUSE = 200;

/** Accumulates deltas; `push` returns the sentences they completed, `flush` the rest. */
export class SentenceSplitter {
  private buffer = '';

  /** Adds a delta and returns the sentences it completed (trimmed, non-empty). */
  push(delta: string): string[] {
    this.buffer += delta;
    const sentences: string[] = [];
    let start = 0;
    for (const match of this.buffer.matchAll(SENTENCE_END)) {
      const end = match.index + match[0].length;
      sentences.push(this.buffer.slice(start, end));
      start = end;
    }
    this.buffer = this.buffer.slice(start);
    if (this.buffer.length > MAX_CLAUSE) {
      const cut = Math.max(this.buffer.lastIndexOf(', '), this.buffer.lastIndexOf('; '), this.buffer.lastIndexOf(': '));
      const at = cut > 0 ? cut + 2 : this.buffer.lastIndexOf(' ') + 1;
      if (at > 0) {
        sentences.push(this.buffer.slice(0, at));
        this.buffer = this.buffer.slice(at);
      }
    }
    return sentences.map((sentence) => sentence.trim()).filter(speakable);
  }

  /** Returns what is left as the last sentence (or nothing). */
  flush(): string[] {
    const rest = this.buffer.trim();
    this.buffer = '';
    return speakable(rest) ? [rest] : [];
  }
}

/** Whether a piece of text has anything to say (not just punctuation or markup). */
function speakable(text: string): boolean {
  return /[\p{L}\p{N}]/u.test(text);
}
