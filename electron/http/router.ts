// A router of method + path pattern (`/api/tasks/:id`): it answers 405 with
// `allow` for a known path and a wrong method, a 400 for a malformed
// %-escape, and turns whatever a handler throws into that request's answer.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, sendError, sendJson } from './respond.ts';

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
