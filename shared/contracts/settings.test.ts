import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, defaultSettings, needsRestart, parseSettings, SettingsSchema } from './settings.ts';

describe('settings contract', () => {
  it('an empty file means the defaults, and the defaults the dashboard shows are the schema\'s', () => {
    expect(SettingsSchema.parse({})).toEqual(DEFAULT_SETTINGS);
    expect(SettingsSchema.parse({ watchdog: {} }).watchdog).toEqual(DEFAULT_SETTINGS.watchdog);
    // One click brings the clusters back with Docker, unless the user says otherwise.
    expect(DEFAULT_SETTINGS.restartClustersWithDocker).toBe(true);
    expect(parseSettings({ restartClustersWithDocker: false })).toMatchObject({ ok: true, settings: { restartClustersWithDocker: false } });
  });

  it('defaults are fresh copies: changing one changes nothing else', () => {
    const a = defaultSettings();
    a.watchdog.intervalMs = 5;
    expect(defaultSettings().watchdog.intervalMs).toBe(DEFAULT_SETTINGS.watchdog.intervalMs);
  });

  it('a wrong field is named with its path; unknown fields are refused', () => {
    expect(parseSettings({ watchdog: { slowMs: 1 } })).toMatchObject({ ok: false, issues: [{ field: 'watchdog.slowMs' }] });
    expect(parseSettings({ colour: 'blue' }).ok).toBe(false);
    expect(parseSettings({ port: 47000 })).toMatchObject({ ok: true, settings: { port: 47000 } });
  });

  it('kindPath: empty (use PATH) by default, an absolute path, never a relative one; applies at once', () => {
    expect(DEFAULT_SETTINGS.kindPath).toBe('');
    expect(parseSettings({ kindPath: '/usr/local/bin/kind' })).toMatchObject({ ok: true, settings: { kindPath: '/usr/local/bin/kind' } });
    expect(parseSettings({ kindPath: 'C:\\tools\\kind.exe' }).ok).toBe(true);
    expect(parseSettings({ kindPath: 'bin/kind' })).toMatchObject({ ok: false, issues: [{ field: 'kindPath' }] });
    const d = defaultSettings();
    expect(needsRestart(d, { ...d, kindPath: '/opt/kind' })).toBe(false);
  });

  it('the port, the watchdog and the probes need a restart; the rest applies at once', () => {
    const d = defaultSettings();
    expect(needsRestart(d, { ...d, notifications: false, dockerStartCommand: 'colima start', restartClustersWithDocker: false })).toBe(false);
    expect(needsRestart(d, { ...d, port: 47000 })).toBe(true);
    expect(needsRestart(d, { ...d, probe: { ...d.probe, deadlineMs: 3_000 } })).toBe(true);
  });
});
