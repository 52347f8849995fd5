// User settings (settings.json): parsed with a schema, every field defaulted,
// so a missing file means "defaults" and a broken one is reported by file and
// field while Kindtray keeps running on defaults.

import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { z } from 'zod';
import { DEADLINES, DEFAULT_PORT, INTERVALS } from '../../shared/constants.ts';

export const SettingsSchema = z
  .object({
    port: z.number().int().min(1024).max(65535).default(DEFAULT_PORT),
    /** Shell command that starts the Docker engine; empty means the platform's default. */
    dockerStartCommand: z.string().default(''),
    watchdog: z
      .object({
        intervalMs: z.number().int().min(100).max(60_000).default(1_000),
        /** A ping slower than this marks the worker `slow`. */
        slowMs: z.number().int().min(10).max(60_000).default(500),
        /** Consecutive missed pings that mark the worker `hung` and, with autoRestart, restart it. */
        missesBeforeRestart: z.number().int().min(1).max(100).default(3),
        autoRestart: z.boolean().default(true),
      })
      .strict()
      .default({ intervalMs: 1_000, slowMs: 500, missesBeforeRestart: 3, autoRestart: true }),
    probe: z
      .object({
        intervalMs: z.number().int().min(500).max(600_000).default(INTERVALS.kubeProbe),
        deadlineMs: z.number().int().min(100).max(60_000).default(DEADLINES.kubeProbe),
      })
      .strict()
      .default({ intervalMs: INTERVALS.kubeProbe, deadlineMs: DEADLINES.kubeProbe }),
    notifications: z.boolean().default(true),
    startAtLogin: z.boolean().default(false),
  })
  .strict();

export type Settings = z.infer<typeof SettingsSchema>;

export const defaultSettings = (): Settings => SettingsSchema.parse({});

export function loadSettings(file: string): { settings: Settings; error?: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { settings: defaultSettings() };
    return { settings: defaultSettings(), error: `${file}: cannot read (${(e as Error).message}); using defaults` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { settings: defaultSettings(), error: `${file}: not valid JSON (${(e as Error).message}); using defaults` };
  }
  const parsed = SettingsSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
    return { settings: defaultSettings(), error: `${file}: ${issues}; using defaults` };
  }
  return { settings: parsed.data };
}

export function saveSettings(file: string, settings: Settings): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(SettingsSchema.parse(settings), null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}
