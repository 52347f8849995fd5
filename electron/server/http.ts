// Small HTTP helpers used by the worker and the supervisor: JSON answers,
// size-limited bodies, and a router of method + path pattern.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiError } from '../../shared/api.ts';

/** The largest request body we read; a task file is a few KiB. */
export const MAX_BODY_BYTES = 256 * 1024;

export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly status: number;
  readonly body: ApiError;
  constructor(status: number, body: ApiError) {
    super(body.error);
    this.status = status;
    this.body = body;
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, e: unknown): void {
  if (e instanceof HttpError) return sendJson(res, e.status, e.body);
  const message = e instanceof Error ? e.message : String(e);
  sendJson(res, 500, { error: `internal error: ${message}` });
}

/** Reads the body up to `limit` bytes; larger bodies are a 413 that says the limit. */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      reject(new HttpError(413, { error: `request body is ${declared} bytes; the limit is ${limit} bytes` }));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new HttpError(413, { error: `request body is over the limit of ${limit} bytes` }));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** decodeURIComponent for a path segment; a malformed escape is a 400 that says so. */
function decodePathPart(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new HttpError(400, { error: `the path ${JSON.stringify(text.slice(0, 80))} has a malformed %-escape` });
  }
}

export type Handler = (req: IncomingMessage, res: ServerResponse, params: Record<string, string>, url: URL) => Promise<void> | void;

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: Handler;
}

export class Router {
  private readonly routes: Route[] = [];

  on(method: string, path: string, handler: Handler): this {
    const keys: string[] = [];
    const pattern = new RegExp(
      `^${path.replace(/:(\w+)/g, (_, k: string) => {
        keys.push(k);
        return '([^/]+)';
      })}$`,
    );
    this.routes.push({ method, pattern, keys, handler });
    return this;
  }

  /** Runs the matching route; answers 404/405 itself. Returns false when no path matched. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const matching = this.routes.filter((r) => r.pattern.test(url.pathname));
    if (matching.length === 0) return false;
    const route = matching.find((r) => r.method === req.method);
    if (!route) {
      sendJson(res, 405, { error: `${req.method} is not allowed on ${url.pathname}` }, { allow: matching.map((r) => r.method).join(', ') });
      return true;
    }
    const m = route.pattern.exec(url.pathname);
    const params: Record<string, string> = {};
    try {
      // Inside the try: a malformed escape (`/api/tasks/%E0%A4%A`) is the caller's 400, not a crash of this process.
      route.keys.forEach((k, i) => (params[k] = decodePathPart(m?.[i + 1] ?? '')));
      await route.handler(req, res, params, url);
    } catch (e) {
      sendError(res, e);
    }
    return true;
  }
}
