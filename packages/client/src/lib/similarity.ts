/**
 * String similarity as Python's `difflib.SequenceMatcher(None, a, b).ratio()` (Ratcliff/Obershelp "gestalt
 * pattern matching": 2·M / (|a| + |b|), M = characters in the recursively found longest common blocks). Written
 * from the algorithm's description; no junk heuristics, which difflib applies only to strings of 200+ characters.
 */

/** Longest common block of a[alo:ahi] and b[blo:bhi]; ties go to the earliest end in a, then in b (as difflib). */
function longestMatch(a: string, b: string, alo: number, ahi: number, blo: number, bhi: number): [number, number, number] {
  let best: [number, number, number] = [alo, blo, 0];
  let prev = new Map<number, number>(); // j → length of the match ending at (i-1, j)
  for (let i = alo; i < ahi; i++) {
    const next = new Map<number, number>();
    for (let j = blo; j < bhi; j++) {
      if (a[i] !== b[j]) continue;
      const k = (prev.get(j - 1) ?? 0) + 1;
      next.set(j, k);
      if (k > best[2]) best = [i - k + 1, j - k + 1, k];
    }
    prev = next;
  }
  return best;
}

function matchingCharacters(a: string, b: string, alo: number, ahi: number, blo: number, bhi: number): number {
  const [i, j, k] = longestMatch(a, b, alo, ahi, blo, bhi);
  if (k === 0) return 0;
  return k + matchingCharacters(a, b, alo, i, blo, j) + matchingCharacters(a, b, i + k, ahi, j + k, bhi);
}

/** 1 for equal strings, 0 for nothing in common. */
export function similarityRatio(a: string, b: string): number {
  const total = a.length + b.length;
  return total === 0 ? 1 : (2 * matchingCharacters(a, b, 0, a.length, 0, b.length)) / total;
}
