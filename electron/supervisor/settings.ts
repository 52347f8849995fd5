// settings.json on disk: read at start and written on every change. The schema
// and the defaults are shared/contracts/settings.ts's; this file only reads and
// writes, so that a missing file means "defaults" and a broken one is reported
// by file and field while Kindtray keeps running on defaults.

import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { defaultSettings, parseSettings, SettingsSchema, type Settings } from '../../shared/contracts/settings.ts';

export { defaultSettings, type Settings };

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
  const parsed = parseSettings(raw);
  if (!parsed.ok) {
    const issues = parsed.issues.map((i) => `${i.field || '(top)'}: ${i.message}`).join('; ');
    return { settings: defaultSettings(), error: `${file}: ${issues}; using defaults` };
  }
  return { settings: parsed.settings };
}

export function saveSettings(file: string, settings: Settings): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(SettingsSchema.parse(settings), null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}
