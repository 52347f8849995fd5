// Every setting's default, as plain data: the schema (settings.ts) defaults
// to these, and the dashboard imports them without pulling zod into its bundle.

import { DEADLINES, DEFAULT_PORT, INTERVALS } from '../constants.ts';
// Not typed with `Settings` (the schema's type, built from these): settings.test.ts checks they agree.
export const DEFAULT_SETTINGS = Object.freeze({
  port: DEFAULT_PORT,
  dockerStartCommand: '',
  restartClustersWithDocker: true,
  kindPath: '',
  watchdog: Object.freeze({ intervalMs: 1_000, slowMs: 500, missesBeforeRestart: 3, autoRestart: true }),
  probe: Object.freeze({ intervalMs: INTERVALS.kubeProbe, deadlineMs: DEADLINES.kubeProbe }),
  notifications: true,
  startAtLogin: false,
});
