import { closest, distance } from 'fastest-levenshtein';

/**
 * The candidate a mistyped `value` most likely meant, if one is close enough to be a typo
 * (a third of its length, at least two edits): for "did you mean …?" in refusals.
 */
export function suggest(value: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const best = closest(value, [...candidates]);
  return distance(value, best) <= Math.max(2, Math.floor(value.length / 3)) ? best : undefined;
}

/** " Did you mean `x`?" when one candidate is close, else the candidates listed. */
export function suggestionText(value: string, candidates: readonly string[], noun: string): string {
  const best = suggest(value, candidates);
  return best ? ` Did you mean \`${best}\`?` : ` Known ${noun}: ${candidates.join(', ')}.`;
}
