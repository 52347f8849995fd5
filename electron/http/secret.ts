// Shared secrets compared as secrets: in constant time, so that how long a
// refusal takes says nothing about how much of a guess was right.

import { timingSafeEqual } from 'node:crypto';

export function sameSecret(given: string, wanted: string): boolean {
  const x = Buffer.from(given);
  const y = Buffer.from(wanted);
  return x.length === y.length && timingSafeEqual(x, y);
}
