/**
 * Reciprocal rank fusion (Cormack et al. 2009): a hit's fused score is Σ 1/(k + rank) over the lists
 * that contain it. Ranks, not raw scores, are combined, so BM25 and cosine need no common scale.
 * @module
 */
import type { MatchType } from './types.js';

/** The usual constant; it damps the weight of the very first ranks. */
export const RRF_K = 60;

/** A ranked list entry: its key and the list it came from. */
export interface Ranked<T> {
  key: number;
  item: T;
}

/** One fused entry. */
export interface Fused<T> {
  item: T;
  score: number;
  matchType: MatchType;
}

/** Fuses a vector and a keyword ranking (best first each) into one ranking, best first. */
export function reciprocalRankFusion<T>(
  vector: readonly Ranked<T>[],
  keyword: readonly Ranked<T>[],
  k: number = RRF_K,
): Fused<T>[] {
  const fused = new Map<number, Fused<T>>();
  const add = (list: readonly Ranked<T>[], type: MatchType) => {
    list.forEach((entry, index) => {
      const contribution = 1 / (k + index + 1);
      const existing = fused.get(entry.key);
      if (existing) {
        existing.score += contribution;
        existing.matchType = 'hybrid';
      } else {
        fused.set(entry.key, { item: entry.item, score: contribution, matchType: type });
      }
    });
  };
  add(vector, 'vector');
  add(keyword, 'keyword');
  return [...fused.values()].sort((a, b) => b.score - a.score);
}
