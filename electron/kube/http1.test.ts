// The HTTP/1.1 answer reader behind the liveness ping and the probes' reads:
// every way a server may frame an answer, cut at every byte, reads the same.

import { describe, expect, it } from 'vitest';
import { Http1Reader, type Http1Answer } from './http1.ts';

const bytes = (s: string) => Buffer.from(s, 'latin1');

/** Feeds `wire` to a reader in pieces of `step` bytes; every answer it gave. */
function read(wire: string, step: number, max = 1024): Http1Answer[] {
  const reader = new Http1Reader(max);
  const out: Http1Answer[] = [];
  const all = bytes(wire);
  for (let i = 0; i < all.length; i += step) {
    // One piece may end one answer and hold the next: what is left is read by pushing nothing.
    for (let a = reader.push(Buffer.from(all.subarray(i, i + step))); a; a = reader.push(Buffer.alloc(0))) out.push(a);
  }
  const last = reader.end();
  if (last) out.push(last);
  return out;
}

const shapes = (answers: Http1Answer[]) => answers.map((a) => ({ status: a.status, body: a.body.toString('utf8'), closes: a.closes }));

describe('Http1Reader', () => {
  const lengthAnswer = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}';
  const chunkedAnswer = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"a":\r\n8;ext=1\r\n"héé"}\r\n0\r\nX-Trailer: 1\r\n\r\n';

  it('reads a Content-Length answer and a chunked one, whatever the pieces they arrive in', () => {
    for (const step of [1, 2, 3, 7, 1000]) {
      expect(shapes(read(lengthAnswer, step))).toEqual([{ status: 200, body: '{"ok":true}', closes: false }]);
      expect(shapes(read(Buffer.from(chunkedAnswer, 'utf8').toString('latin1'), step))).toEqual([{ status: 200, body: '{"a":"héé"}', closes: false }]);
    }
  });

  it('reads answers one after another on one connection, an interim 100 passed over', () => {
    const wire = `HTTP/1.1 100 Continue\r\n\r\n${lengthAnswer}HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy`;
    for (const step of [1, 5, 4096]) {
      expect(shapes(read(wire, step))).toEqual([
        { status: 200, body: '{"ok":true}', closes: false },
        { status: 503, body: 'busy', closes: true },
      ]);
    }
  });

  it('reads an answer with no length to the end of the connection, and one with no body', () => {
    expect(shapes(read('HTTP/1.0 200 OK\r\n\r\nall of it', 3))).toEqual([{ status: 200, body: 'all of it', closes: false }]);
    expect(shapes(read('HTTP/1.1 204 No Content\r\n\r\n', 2))).toEqual([{ status: 204, body: '', closes: false }]);
  });

  it('says when the connection closed in the middle of an answer', () => {
    const reader = new Http1Reader(1024);
    expect(reader.push(bytes(lengthAnswer.slice(0, -3)))).toBeUndefined();
    expect(reader.midAnswer).toBe(true);
    expect(() => reader.end()).toThrow('closed before the answer was complete');
    const idle = new Http1Reader(1024);
    expect(idle.end()).toBeUndefined();
  });

  it('refuses what is not HTTP, a body over the limit (by length or by chunks), and a malformed chunk', () => {
    expect(() => read('SSH-2.0-OpenSSH\r\n\r\n', 100)).toThrow('not HTTP/1.1');
    expect(() => read('HTTP/1.1 200 OK\r\nContent-Length: 2048\r\n\r\n', 100)).toThrow('larger than');
    expect(() => read(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${'200\r\n'}${'x'.repeat(512)}\r\n${'300\r\n'}`, 100)).toThrow('larger than');
    expect(() => read('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 100)).toThrow('not a number');
    expect(() => read('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n', 100)).toThrow('did not end where its size said');
  });
});
