// Where Kindtray keeps its files: $KINDTRAY_HOME, else the platform's app-data
// folder. One place for every path, so tests and users can point it anywhere.

import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { APP_NAME } from '../../shared/constants.ts';

export interface KindtrayPaths {
  home: string;
  serverFile: string;
  database: string;
  logs: string;
  settings: string;
  appLog: string;
}

export function kindtrayHome(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home = homedir()): string {
  if (env.KINDTRAY_HOME) return env.KINDTRAY_HOME;
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', APP_NAME);
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), APP_NAME);
  return join(env.XDG_CONFIG_HOME ?? join(home, '.config'), APP_NAME);
}

export function kindtrayPaths(env: NodeJS.ProcessEnv = process.env): KindtrayPaths {
  const home = kindtrayHome(env);
  return {
    home,
    serverFile: join(home, 'server.json'),
    database: join(home, 'kindtray.db'),
    logs: join(home, 'logs'),
    settings: join(home, 'settings.json'),
    appLog: join(home, 'logs', 'kindtray.log'),
  };
}

export function ensureHome(paths: KindtrayPaths): void {
  mkdirSync(paths.logs, { recursive: true, mode: 0o700 });
}
