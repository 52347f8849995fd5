// Kindtray's version, declared once: what server.json, GET /api/health, the
// app and `kindtray --version` say. It must equal package.json's "version"
// (electron/cli/version.test.ts checks it; shared/ cannot read files).

export const VERSION = '0.1.0';
