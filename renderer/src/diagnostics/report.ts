// The diagnostics report a user pastes into an issue: the snapshot and the
// versions, with anything secret taken out — tokens, passwords, certificate
// and key data, whatever a cause message may have quoted.

import type { HealthResponse } from '../../../shared/api.ts';
import type { HealthSnapshot } from '../../../shared/snapshot.ts';

const REMOVED = '[removed]';

/** Keys whose values are never copied, whatever they hold. */
const SECRET_KEY = /token|secret|passw(or)?d|authorization|cookie|session|certificate|cert-?data|key-?data|client-?key|private-?key|credential|api-?key/i;

const PEM = /-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(-----END [A-Z0-9 ]+-----|$)/g;
const URL_SECRET = /([?&](?:token|access_token|auth|key|password|secret)=)[^&\s"']+/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
const USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]+@/gi;
/** Long unbroken base64/base64url runs with mixed case and digits: tokens and key material, not words or hex digests. */
const BLOB = /[A-Za-z0-9+/_-]{40,}={0,2}/g;
const looksSecret = (s: string): boolean => /[a-z]/.test(s) && /[A-Z]/.test(s) && /\d/.test(s) && !s.includes('/');

export function redactText(s: string): string {
  return s
    .replace(PEM, '[certificate or key removed]')
    .replace(URL_SECRET, `$1${REMOVED}`)
    .replace(BEARER, `$1 ${REMOVED}`)
    .replace(USERINFO, `$1${REMOVED}@`)
    .replace(BLOB, (m) => (looksSecret(m) ? REMOVED : m));
}

/** A deep copy with secret keys' values and secret-looking text replaced. */
export function redact(value: unknown): unknown {
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map(redact);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? REMOVED : redact(v)]));
  }
  return value;
}

export interface ReportInput {
  now: Date;
  dashboardVersion: string;
  transport: 'browser' | 'electron';
  userAgent: string;
  connection: string;
  snapshot?: HealthSnapshot;
  snapshotAgeMs?: number;
  health?: HealthResponse;
  healthError?: string;
}

export function buildReport(r: ReportInput): string {
  const report = {
    kind: 'kindtray-diagnostics',
    generatedAt: r.now.toISOString(),
    dashboard: { version: r.dashboardVersion, transport: r.transport, userAgent: r.userAgent, connection: r.connection },
    server: r.health
      ? { version: r.health.version, status: r.health.status, pid: r.health.pid, port: r.health.port, uptimeMs: r.health.uptimeMs, worker: r.health.worker }
      : { error: r.healthError ?? 'not asked' },
    snapshotAgeMs: r.snapshotAgeMs,
    snapshot: r.snapshot ?? null,
  };
  return `${JSON.stringify(redact(report), null, 2)}\n`;
}
