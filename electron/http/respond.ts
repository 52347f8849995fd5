// Answers and request bodies, the same for every HTTP server Kindtray runs
// (the supervisor's public port and the API worker's loopback one): JSON with
// no-store and nosniff, errors as `{ error }` values, bodies read under a size limit.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiError } from '../../shared/api.ts';

/** The largest request body we read; a task file is a few KiB. */
export const MAX_BODY_BYTES = 256 * 1024;

/** Headers on every answer that is not a cacheable file: never stored, never sniffed as something else. */
export const NO_STORE_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } as const;

/** An answer a handler means (a 404, a 422 with its field), thrown to the router, which sends it. */
export class HttpError<Body extends { error: string } = ApiError> extends Error {
  override readonly name: string = 'HttpError';
  readonly status: number;
  readonly body: Body;
  constructor(status: number, body: Body) {
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
    ...NO_STORE_HEADERS,
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, e: unknown): void {
  if (e instanceof HttpError) return sendJson(res, e.status, e.body);
  const message = e instanceof Error ? e.message : String(e);
  sendJson(res, 500, { error: `internal error: ${message}` });
}

/** The 404 for a path no route knows. */
export function sendNoRoute(res: ServerResponse, method: string | undefined, pathname: string): void {
  sendJson(res, 404, { error: `no route ${method} ${pathname}` });
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

/** A JSON body, parsed: an oversize body is readBody's 413, text that is not JSON a 400 saying what `what` must be. */
export async function readJson(req: IncomingMessage, limit: number, what: string): Promise<unknown> {
  // Read outside the try: an oversize body is the reader's 413, not "not JSON".
  const text = await readBody(req, limit);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, { error: `${what} must be a JSON object` });
  }
}
