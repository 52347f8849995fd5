// A Pod's log from a byte offset: the API has no such offset, so the child
// reads the whole log and sends only the new bytes across.

import type { LogRead } from '../../shared/contracts/kube-ops.ts';

/**
 * The log's bytes from `sinceBytes`. The client hands the log over decoded, so
 * a UTF-8 character the API cut in two at the end arrives as U+FFFD; with
 * `stableTail` such an end is held back, so that offsets count the same bytes
 * on the next read, when the character is whole.
 */
export function logSlice(text: string, sinceBytes: number, stableTail: boolean): LogRead {
  const all = Buffer.from(text, 'utf8');
  const reset = all.length < sinceBytes;
  const from = reset ? 0 : sinceBytes;
  let end = all.length;
  if (stableTail) {
    while (end - 3 >= from && all[end - 3] === 0xef && all[end - 2] === 0xbf && all[end - 1] === 0xbd) end -= 3;
  }
  return { data: new Uint8Array(all.subarray(from, end)), nextOffset: end, totalBytes: all.length, reset };
}

