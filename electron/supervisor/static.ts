// Serves the dashboard (the renderer's built files) with strict headers, and
// trades a one-time `?token=` for an HttpOnly, SameSite=Strict session cookie,
// dropping the token from the address bar, as Jupyter does.

import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTENT_SECURITY_POLICY } from '../../shared/csp.ts';
import { Auth } from './auth.ts';

export const DASHBOARD_DIR = fileURLToPath(new URL('../../renderer/dist/', import.meta.url));


const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

function page(res: ServerResponse, status: number, title: string, body: string): void {
  const html = `<!doctype html><meta charset="utf-8"><title>${title}</title><body style="font:15px system-ui;margin:3em;max-width:40em"><h1>${title}</h1>${body}</body>`;
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

export function serveDashboard(req: IncomingMessage, res: ServerResponse, url: URL, auth: Auth, root = DASHBOARD_DIR): void {
  req.resume();
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...SECURITY_HEADERS, allow: 'GET, HEAD' }).end();
    return;
  }
  const token = url.searchParams.get('token');
  if (token !== null) {
    const session = auth.redeemLoginToken(token);
    if (!session) {
      page(res, 401, 'This link has expired', '<p>Dashboard links work once. Run <code>kindtray dashboard</code> for a fresh one.</p>');
      return;
    }
    url.searchParams.delete('token');
    res.writeHead(303, { ...SECURITY_HEADERS, 'set-cookie': Auth.sessionCookie(session), location: `${url.pathname}${url.search}`, 'cache-control': 'no-store' });
    res.end();
    return;
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(url.pathname);
  } catch {
    // Needs no token and any web page can send it (an <img>): thrown, it would end the process that holds the port.
    page(res, 400, 'Bad request', '<p>The address has a malformed %-escape.</p>');
    return;
  }
  if (!existsSync(join(root, 'index.html'))) {
    page(res, 503, 'Kindtray', '<p>The dashboard is not built. Run <code>npm run build:renderer</code>, then reload.</p><p>The API answers at <code>/api/status</code>.</p>');
    return;
  }
  let path = normalize(join(root, decoded));
  if (!path.startsWith(root.endsWith(sep) ? root : root + sep) && path !== root.replace(/\/$/, '')) {
    res.writeHead(404, SECURITY_HEADERS).end();
    return;
  }
  // The dashboard routes in the page itself: unknown paths get index.html.
  if (!existsSync(path) || statSync(path).isDirectory()) path = join(root, 'index.html');
  const type = TYPES[extname(path)] ?? 'application/octet-stream';
  const immutable = path.includes(`${sep}assets${sep}`);
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache' });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(path).pipe(res);
}
