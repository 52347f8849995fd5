// The copied report carries what a maintainer needs and nothing a user must keep.

import { describe, expect, it } from 'vitest';
import { withProblems } from '../../../shared/problems.ts';
import { dockerStoppedInput } from '../../../shared/snapshot-fixtures.ts';
import { buildReport, redact, redactText } from './report.ts';

describe('diagnostics report', () => {
  it('keeps the snapshot and the versions', () => {
    const snapshot = withProblems(dockerStoppedInput());
    const text = buildReport({
      now: new Date('2026-01-15T10:00:05Z'),
      dashboardVersion: '0.1.0',
      transport: 'browser',
      userAgent: 'test',
      connection: 'live',
      snapshot,
      snapshotAgeMs: 5000,
      health: { status: 'ok', pid: 1, uptimeMs: 10, version: '0.1.0', port: 46590, worker: { state: 'healthy' } },
    });
    const report = JSON.parse(text);
    expect(report.kind).toBe('kindtray-diagnostics');
    expect(report.server.version).toBe('0.1.0');
    expect(report.snapshot).toEqual(snapshot);
  });

  it('removes values under secret keys, at any depth', () => {
    expect(redact({ token: 'abc', a: [{ clientKeyData: 'x', 'client-certificate-data': 'y', password: 'p' }], user: 'me' })).toEqual({
      token: '[removed]',
      a: [{ clientKeyData: '[removed]', 'client-certificate-data': '[removed]', password: '[removed]' }],
      user: 'me',
    });
  });

  it('removes certificates, URL tokens, bearer tokens and user:password from text', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----';
    expect(redactText(`bad cert ${pem} here`)).toBe('bad cert [certificate or key removed] here');
    expect(redactText('open http://127.0.0.1:46590/?token=Zx9_aa-1&x=1')).toBe('open http://127.0.0.1:46590/?token=[removed]&x=1');
    expect(redactText('sent Authorization: Bearer eyJhbGciOi.abc.def')).toBe('sent Authorization: Bearer [removed]');
    expect(redactText('https://bob:hunter2@registry.example/v2')).toBe('https://[removed]@registry.example/v2');
  });

  it('removes long mixed-case base64 runs but keeps paths, hex digests and words', () => {
    const token = 'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7dE9';
    expect(redactText(`token ${token} leaked`)).toBe('token [removed] leaked');
    const digest = 'sha256:' + 'a1'.repeat(32);
    expect(redactText(digest)).toBe(digest);
    expect(redactText('/home/me/.kube/config')).toBe('/home/me/.kube/config');
    expect(redactText('connect ECONNREFUSED 127.0.0.1:41001')).toBe('connect ECONNREFUSED 127.0.0.1:41001');
  });
});
