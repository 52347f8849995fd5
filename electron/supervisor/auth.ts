// Who may talk to Kindtray's HTTP port: only loopback names in `Host` (so a
// rebound DNS name cannot reach us from a web page), only our own `Origin`,
// and, for everything but health, the bearer token from server.json or a
// session cookie that a one-time dashboard token was traded for.

import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { sameSecret } from '../http/index.ts';

export const SESSION_COOKIE = 'kindtray_session';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export const newToken = (): string => randomBytes(24).toString('base64url');

/** The host part of a Host header: `127.0.0.1:46590` → `127.0.0.1`, `[::1]:80` → `[::1]`. */
function hostName(host: string): string {
  const m = /^(\[[^\]]*\]|[^:[\]]*)(?::\d{1,5})?$/.exec(host);
  // Anything else (`[::1]junk`, several colons) is not a host we answer to.
  return m?.[1] ?? '';
}

export type Refusal = { status: 400 | 401 | 403; error: string };

export function checkHostAndOrigin(req: IncomingMessage, port: number, extraOrigins: readonly string[] = []): Refusal | undefined {
  const host = req.headers.host;
  if (!host) return { status: 400, error: 'missing Host header' };
  if (!LOOPBACK_HOSTS.has(hostName(host).toLowerCase())) {
    return { status: 403, error: `Host "${host}" is not a loopback name; Kindtray answers only on 127.0.0.1, localhost and [::1]` };
  }
  const origin = req.headers.origin;
  if (origin !== undefined) {
    const own = [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`, ...extraOrigins];
    if (!own.includes(origin.toLowerCase())) return { status: 403, error: `Origin "${origin}" is not Kindtray's own` };
  }
  return undefined;
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

/** Tokens and sessions of one supervisor run. */
export class Auth {
  readonly token: string;
  private readonly loginTokens = new Map<string, number>();
  private readonly sessions = new Set<string>();

  constructor(token = newToken()) {
    this.token = token;
  }

  /** Whether the request carries the bearer token or a live session cookie. */
  authorized(req: IncomingMessage): boolean {
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer ') && sameSecret(header.slice(7).trim(), this.token)) return true;
    const session = cookie(req, SESSION_COOKIE);
    return session !== undefined && this.sessions.has(session);
  }

  /** A token for a dashboard URL, good once and for `ttlMs`. */
  mintLoginToken(ttlMs = 10 * 60_000): string {
    const t = newToken();
    this.loginTokens.set(t, Date.now() + ttlMs);
    return t;
  }

  /** Trades a one-time login token for a session id; undefined when it is unknown, used or expired. */
  redeemLoginToken(t: string): string | undefined {
    const until = this.loginTokens.get(t);
    this.loginTokens.delete(t);
    if (until === undefined || until < Date.now()) return undefined;
    const session = newToken();
    this.sessions.add(session);
    return session;
  }

  static sessionCookie(session: string): string {
    return `${SESSION_COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/`;
  }
}
