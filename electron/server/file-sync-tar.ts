// A minimal tar writer (POSIX ustar, with a pax header for a path too long
// for ustar's name and prefix fields), enough for `tar xf -` in a Pod, GNU or
// busybox: folders, regular files, symbolic links. Owner and group are 0 and
// unnamed, as rsync's --no-owner --no-group leaves the receiver's. A copy is
// cut into several archives, each whole, so that each goes in its own exec
// under its own deadline, and progress can be told between them.

import { readFile } from 'node:fs/promises';
import type { LocalEntry } from './file-sync-plan.ts';

const BLOCK = 512;

function octal(value: number, width: number): string {
  // width - 1 digits and a NUL, as ustar writers do.
  return value.toString(8).padStart(width - 1, '0').slice(-(width - 1));
}

function writeField(header: Buffer, offset: number, width: number, text: string): void {
  Buffer.from(text, 'utf8').copy(header, offset, 0, width);
}

/** Splits a path into ustar's prefix (≤155 bytes) and name (≤100 bytes) at a `/`, or undefined when it cannot be. */
export function splitUstarPath(path: string): { prefix: string; name: string } | undefined {
  const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
  if (bytes(path) <= 100) return { prefix: '', name: path };
  for (let i = path.indexOf('/'); i > 0; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (bytes(prefix) <= 155 && bytes(name) <= 100 && name !== '') return { prefix, name };
  }
  return undefined;
}

interface HeaderFields {
  path: string;
  type: '0' | '2' | '5' | 'x';
  size: number;
  mode: number;
  mtime: number;
  linkTarget?: string;
}

function ustarHeader(f: HeaderFields, prefix: string, name: string, link: string): Buffer {
  const h = Buffer.alloc(BLOCK);
  writeField(h, 0, 100, name);
  writeField(h, 100, 8, octal(f.mode, 8));
  writeField(h, 108, 8, octal(0, 8));
  writeField(h, 116, 8, octal(0, 8));
  writeField(h, 124, 12, octal(f.size, 12));
  writeField(h, 136, 12, octal(Math.max(0, Math.floor(f.mtime)), 12));
  h.fill(0x20, 148, 156);
  writeField(h, 156, 1, f.type);
  writeField(h, 157, 100, link);
  writeField(h, 257, 6, 'ustar\0');
  writeField(h, 263, 2, '00');
  writeField(h, 345, 155, prefix);
  let sum = 0;
  for (const b of h) sum += b;
  writeField(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

/** A pax record `LEN key=value\n`, LEN counting its own digits too. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const n = Buffer.byteLength(body, 'utf8');
  let total = n + String(n).length;
  if (String(total).length > String(n).length) total = n + String(total).length;
  return `${total}${body}`;
}

/** The header block(s) of one entry: a pax header first when its path or link does not fit ustar. */
export function entryHeader(f: HeaderFields): Buffer {
  const split = splitUstarPath(f.path);
  const link = f.linkTarget ?? '';
  const linkFits = Buffer.byteLength(link, 'utf8') <= 100;
  if (split && linkFits) return ustarHeader(f, split.prefix, split.name, link);
  let records = '';
  if (!split) records += paxRecord('path', f.path);
  if (!linkFits) records += paxRecord('linkpath', link);
  const data = Buffer.from(records, 'utf8');
  const paxName = `PaxHeader/${f.path.replace(/\/$/, '').split('/').pop() ?? 'entry'}`.slice(0, 100);
  const pax = ustarHeader({ path: paxName, type: 'x', size: data.length, mode: 0o644, mtime: f.mtime }, '', paxName, '');
  // The ustar fields keep a cut-down name, for readers that skip pax.
  const short = f.path.slice(-99);
  return Buffer.concat([pax, data, padding(data.length), ustarHeader(f, '', short, linkFits ? link : link.slice(0, 100))]);
}

export function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

/** The end of an archive: two zero blocks. */
export const TAR_END = Buffer.alloc(2 * BLOCK);
/** tar's default record (20 blocks). GNU tar reading a pipe stops at the end blocks only once a whole record came;
 * in a shorter last record it waits for EOF, which an exec on channel protocol v4 cannot send. */
const RECORD = 20 * BLOCK;

/** The parts as one archive: its end blocks, and zeros up to a whole record. */
function archiveOf(parts: Buffer[], size: number): Buffer {
  const total = size + TAR_END.length;
  const rest = total % RECORD;
  return Buffer.concat([...parts, TAR_END, Buffer.alloc(rest === 0 ? 0 : RECORD - rest)]);
}

function headerOf(e: LocalEntry): Buffer {
  const mtime = e.mtimeMs / 1000;
  if (e.kind === 'dir') return entryHeader({ path: `${e.path}/`, type: '5', size: 0, mode: e.mode || 0o755, mtime });
  if (e.kind === 'symlink') return entryHeader({ path: e.path, type: '2', size: 0, mode: e.mode || 0o777, mtime, linkTarget: e.linkTarget ?? '' });
  return entryHeader({ path: e.path, type: '0', size: e.size, mode: e.mode || 0o644, mtime });
}

/** Bytes one entry takes in an archive (headers, data, padding). */
export function entryBytes(e: LocalEntry): number {
  const data = e.kind === 'file' ? e.size + padding(e.size).length : 0;
  return headerOf(e).length + data;
}

/**
 * The entries as whole archives of about `chunkBytes` each (one file larger
 * than that is an archive of its own), in order. A file that changed size since it was
 * listed throws, naming it. Tar makes the folders a file needs, so an
 * archive that starts inside a folder extracts on its own.
 */
export async function* tarArchives(entries: readonly LocalEntry[], chunkBytes: number): AsyncGenerator<{ archive: Buffer; entries: number; dataBytes: number }> {
  let parts: Buffer[] = [];
  let size = 0;
  let count = 0;
  let dataBytes = 0;
  for (const e of entries) {
    const header = headerOf(e);
    let data: Buffer | undefined;
    if (e.kind === 'file') {
      data = await readFile(e.abs);
      if (data.length !== e.size) throw new Error(`${e.abs} changed while it was being copied (${e.size} bytes when listed, ${data.length} now)`);
    }
    const bytes = header.length + (data ? data.length + padding(data.length).length : 0);
    if (count > 0 && size + bytes > chunkBytes) {
      yield { archive: archiveOf(parts, size), entries: count, dataBytes };
      parts = [];
      size = 0;
      count = 0;
      dataBytes = 0;
    }
    parts.push(header);
    if (data) {
      parts.push(data, padding(data.length));
      dataBytes += data.length;
    }
    size += bytes;
    count++;
  }
  if (count > 0) yield { archive: archiveOf(parts, size), entries: count, dataBytes };
}
