// Edit distance between short words, for "did you mean …?" suggestions (a
// misspelt field, a context name). Pure and allocation-free.

/** Scratch rows for editDistance, reused: field names are short. */
const ROW = 64;
const rows = new Int32Array(ROW * 3);

/**
 * Optimal string alignment distance (insertions, deletions, substitutions and
 * swaps of neighbours), capped: anything over `max` answers `max + 1`. It runs
 * once per unknown key per field, and a 64 KiB document can hold thousands of
 * keys, so it allocates nothing.
 */
export function editDistance(a: string, b: string, max = 3): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  if (b.length >= ROW) return a === b ? 0 : max + 1;
  // Three rows in one buffer: two back, one back, this one.
  let r2 = 0;
  let r1 = ROW;
  let r0 = 2 * ROW;
  for (let j = 0; j <= b.length; j++) rows[r1 + j] = j;
  for (let i = 1; i <= a.length; i++) {
    rows[r0] = i;
    let best = i;
    const ai = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const bj = b.charCodeAt(j - 1);
      let d = Math.min((rows[r1 + j] as number) + 1, (rows[r0 + j - 1] as number) + 1, (rows[r1 + j - 1] as number) + (ai === bj ? 0 : 1));
      if (i > 1 && j > 1 && ai === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === bj) d = Math.min(d, (rows[r2 + j - 2] as number) + 1);
      rows[r0 + j] = d;
      if (d < best) best = d;
    }
    if (best > max) return max + 1;
    const oldest = r2;
    r2 = r1;
    r1 = r0;
    r0 = oldest;
  }
  return Math.min(rows[r1 + b.length] as number, max + 1);
}
