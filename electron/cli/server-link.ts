// The light way from a CLI command to a running server: find server.json, ask
// over HTTP under a deadline. It loads Node built-ins and two shared files only,
// because the supervisor's door pulls in the monitor, dockerode, the Kubernetes
// client and zod (≈ 0.3 s on a laptop) and a command that only asks the server
// uses none of them. What it repeats of the supervisor (where server.json lives,
// its shape) is checked against the supervisor's own code in server-link.test.ts.

import { APP_NAME } from '../../shared/constants.ts';
import { withDeadline } from '../../shared/deadline.ts';
import { jsonOrText } from '../../shared/json-or-text.ts';
import type { ServerFile } from '../supervisor/index.ts';
import { isAlive } from '../process/index.ts';

export type { ServerFile };

// Built-ins come from process.getBuiltinModule, not `import … from 'node:…'`: an ES import
// of a built-in reads every export to build its facade, which runs their lazy getters:
// node:http's then loads Node's whole fetch stack (undici), node:fs's fs/promises and the
// streams; ≈ 50 ms of a 0.3 s budget for functions this file never calls.
const { readFileSync } = process.getBuiltinModule('node:fs');
const { request } = process.getBuiltinModule('node:http');
const { homedir } = process.getBuiltinModule('node:os');
const { join } = process.getBuiltinModule('node:path');

export class NoServerError extends Error {
  override readonly name = 'NoServerError';
}

export interface ApiAnswer<T = unknown> {
  status: number;
  body: T;
}

export interface RequestOptions {
  method?: string;
  body?: string;
  contentType?: string;
  deadlineMs?: number;
}

/** server.json's path: $KINDTRAY_HOME, else the platform's app-data folder (the supervisor's `kindtrayPaths`). */
export function serverFilePath(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform, home = homedir()): string {
  const dir = env.KINDTRAY_HOME
    ? env.KINDTRAY_HOME
    : platform === 'darwin'
      ? join(home, 'Library', 'Application Support', APP_NAME)
      : platform === 'win32'
        ? join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), APP_NAME)
        : join(env.XDG_CONFIG_HOME ?? join(home, '.config'), APP_NAME);
  return join(dir, 'server.json');
}

const isInt = (x: unknown, min: number, max: number): x is number => Number.isInteger(x) && (x as number) >= min && (x as number) <= max;

/** server.json's content when it is well formed (the supervisor's ServerFileSchema), else undefined. */
export function parseServerFile(text: string): ServerFile | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const { pid, port, token, startedAt, version } = v as Record<string, unknown>;
  if (!isInt(pid, 1, Number.MAX_SAFE_INTEGER) || !isInt(port, 1, 65535)) return undefined;
  if (typeof token !== 'string' || token.length < 16 || typeof startedAt !== 'string' || typeof version !== 'string') return undefined;
  return { pid, port, token, startedAt, version };
}

export { isAlive };

/** The running server as server.json describes it, when its process is alive. */
export function serverInfo(env: NodeJS.ProcessEnv): ServerFile | undefined {
  let text: string;
  try {
    text = readFileSync(serverFilePath(env), 'utf8');
  } catch {
    return undefined;
  }
  const info = parseServerFile(text);
  return info && isAlive(info.pid) ? info : undefined;
}

export async function apiRequest<T = unknown>(info: Pick<ServerFile, 'port' | 'token'>, path: string, opts: RequestOptions = {}): Promise<ApiAnswer<T>> {
  const ms = opts.deadlineMs ?? 15_000;
  return withDeadline(`Kindtray server on port ${info.port}`, ms, (signal) =>
    new Promise<ApiAnswer<T>>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: info.port,
          path,
          method: opts.method ?? 'GET',
          signal,
          headers: {
            authorization: `Bearer ${info.token}`,
            ...(opts.body !== undefined ? { 'content-type': opts.contentType ?? 'application/yaml', 'content-length': Buffer.byteLength(opts.body) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            // JSON, or not (a log): the caller knows what it asked for.
            const body = jsonOrText(Buffer.concat(chunks).toString('utf8'));
            resolve({ status: res.statusCode ?? 0, body: body as T });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(opts.body);
    }),
  );
}

/** Whether the server answers its health route with 200 within `ms`. */
export async function answersHealth(info: Pick<ServerFile, 'port' | 'token'>, ms: number): Promise<boolean> {
  const answer = await apiRequest(info, '/api/health', { deadlineMs: ms }).catch(() => undefined);
  return answer?.status === 200;
}
