// Electron's entry point (package.json "main" in a packaged build: the
// compiled dist/electron/app/main.js). Everything is in app-main.ts.

import { app, dialog } from 'electron';
import { runApp } from './app-main.ts';

runApp().catch((e: unknown) => {
  const message = e instanceof Error ? (e.stack ?? e.message) : String(e);
  process.stderr.write(`kindtray: the app could not start: ${message}\n`);
  if (app.isReady()) dialog.showErrorBox('Kindtray could not start', e instanceof Error ? e.message : String(e));
  app.exit(1);
});
