// The dashboard's Content-Security-Policies, in one place: the one the
// supervisor (and the dashboard's dev server) serves with every page, and the
// stricter one the tray app's window adds on top (both are enforced).
// The dashboard needs inline styles; nothing else is relaxed.

/** Served with the dashboard's files by `kindtray serve` and the app's supervisor. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Added by the Electron window to every response it loads. */
export const WINDOW_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');
