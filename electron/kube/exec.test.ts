// The exec client's pure parts: the exit code a Status on the error channel
// says (as the kubelet writes it), and client frames as RFC 6455 lays them out.

import { describe, expect, it } from 'vitest';
import { clientFrame, exitCodeOf } from './exec.ts';

describe('the exit status on the error channel', () => {
  it('Success is 0; NonZeroExitCode carries the code as the ExitCode cause; a failure without one is no exit code', () => {
    expect(exitCodeOf({ status: 'Success' })).toBe(0);
    expect(exitCodeOf({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '2' }] } })).toBe(2);
    expect(exitCodeOf({ status: 'Failure', reason: 'InternalError', message: 'executable file not found in $PATH' })).toBeUndefined();
  });
});

describe('client frames', () => {
  it('FIN and opcode, the mask bit, 7-, 16- and 64-bit lengths, a 4-byte key, then the payload', () => {
    for (const len of [5, 125, 126, 65535, 65536, 300_000]) {
      const payload = Buffer.alloc(len, 7);
      const f = clientFrame(0x2, payload);
      expect(f[0]).toBe(0x82);
      expect((f[1] ?? 0) & 0x80).toBe(0x80);
      const len7 = (f[1] ?? 0) & 0x7f;
      const at = len7 === 126 ? 4 : len7 === 127 ? 10 : 2;
      const said = len7 === 126 ? f.readUInt16BE(2) : len7 === 127 ? Number(f.readBigUInt64BE(2)) : len7;
      expect(said).toBe(len);
      expect(f.length).toBe(at + 4 + len);
      // The key is zero over TLS: the payload goes as it is.
      expect(f.subarray(at + 4).equals(payload)).toBe(true);
    }
  });
});
