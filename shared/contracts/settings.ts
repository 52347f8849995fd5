// User settings (settings.json, GET/PUT /api/settings), typed once: the
// supervisor parses the file and every PUT with this schema, the dashboard
// edits the same type. Every field has its default (settings-defaults.ts), so
// a missing file or field means "the default".

import { z } from 'zod';
import { DEFAULT_SETTINGS as D } from './settings-defaults.ts';

export { DEFAULT_SETTINGS } from './settings-defaults.ts';

export const SettingsSchema = z
  .object({
    port: z.number().int().min(1024).max(65535).default(D.port),
    /** Shell command that starts the Docker engine; empty means the platform's default. */
    dockerStartCommand: z.string().default(D.dockerStartCommand),
    /** Start Docker (and Restart Docker) also start the clusters that were running, wait for their APIs and repair their contexts. */
    restartClustersWithDocker: z.boolean().default(D.restartClustersWithDocker),
    /** The `kind` executable (an absolute path); empty means the first `kind` on PATH. */
    kindPath: z.string().max(4096).refine((p) => p === '' || /^([a-zA-Z]:)?[\\/]/.test(p), 'an absolute path, or empty to use the kind on PATH').default(D.kindPath),
    watchdog: z
      .object({
        intervalMs: z.number().int().min(100).max(60_000).default(D.watchdog.intervalMs),
        /** A ping slower than this marks the worker `slow`. */
        slowMs: z.number().int().min(10).max(60_000).default(D.watchdog.slowMs),
        /** Consecutive missed pings that mark the worker `hung` and, with autoRestart, restart it. */
        missesBeforeRestart: z.number().int().min(1).max(100).default(D.watchdog.missesBeforeRestart),
        autoRestart: z.boolean().default(D.watchdog.autoRestart),
      })
      .strict()
      .default(() => ({ ...D.watchdog })),
    probe: z
      .object({
        intervalMs: z.number().int().min(500).max(600_000).default(D.probe.intervalMs),
        deadlineMs: z.number().int().min(100).max(60_000).default(D.probe.deadlineMs),
      })
      .strict()
      .default(() => ({ ...D.probe })),
    notifications: z.boolean().default(D.notifications),
    startAtLogin: z.boolean().default(D.startAtLogin),
  })
  .strict();

export type Settings = z.infer<typeof SettingsSchema>;

/** A fresh, mutable copy of the defaults. */
export const defaultSettings = (): Settings => SettingsSchema.parse({});

/** Settings from untrusted JSON: the value, or the first field that is wrong and why. */
export function parseSettings(raw: unknown): { ok: true; settings: Settings } | { ok: false; issues: { field: string; message: string }[] } {
  const parsed = SettingsSchema.safeParse(raw);
  if (parsed.success) return { ok: true, settings: parsed.data };
  return { ok: false, issues: parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })) };
}

/** The settings read only at start: changing one needs a restart of Kindtray. */
export const needsRestart = (before: Settings, after: Settings): boolean =>
  before.port !== after.port ||
  JSON.stringify(before.watchdog) !== JSON.stringify(after.watchdog) ||
  JSON.stringify(before.probe) !== JSON.stringify(after.probe);
