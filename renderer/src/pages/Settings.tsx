// Settings: how Docker is started, the watchdog's and the probes' timing, the
// port, notifications and start at login. Type checks happen here; the ranges
// are the server's (shared/contracts/settings.ts, the one schema), and its
// answer lands at the field.

import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { DEFAULT_SETTINGS } from '../../../shared/contracts/settings-defaults.ts';
import type { Settings } from '../../../shared/contracts/settings.ts';
import { DOCKER_START_PRESETS } from '../../../shared/docker-start.ts';
import { Failure, Loading, Spinner } from '../components/common.tsx';
import { useController } from '../store/store.ts';
import type { ApiFailure } from '../transport.ts';

type NumberPath = 'port' | 'watchdog.intervalMs' | 'watchdog.slowMs' | 'watchdog.missesBeforeRestart' | 'probe.intervalMs' | 'probe.deadlineMs';
type BoolPath = 'watchdog.autoRestart' | 'notifications' | 'startAtLogin' | 'restartClustersWithDocker';
type Path = NumberPath | BoolPath | 'dockerStartCommand';

interface Draft {
  numbers: Record<NumberPath, string>;
  bools: Record<BoolPath, boolean>;
  dockerStartCommand: string;
}

const NUMBER_PATHS: NumberPath[] = ['port', 'watchdog.intervalMs', 'watchdog.slowMs', 'watchdog.missesBeforeRestart', 'probe.intervalMs', 'probe.deadlineMs'];

function get(s: Settings, p: NumberPath): number {
  switch (p) {
    case 'port':
      return s.port;
    case 'watchdog.intervalMs':
      return s.watchdog.intervalMs;
    case 'watchdog.slowMs':
      return s.watchdog.slowMs;
    case 'watchdog.missesBeforeRestart':
      return s.watchdog.missesBeforeRestart;
    case 'probe.intervalMs':
      return s.probe.intervalMs;
    case 'probe.deadlineMs':
      return s.probe.deadlineMs;
  }
}

export function toDraft(s: Settings): Draft {
  return {
    numbers: Object.fromEntries(NUMBER_PATHS.map((p) => [p, String(get(s, p))])) as Record<NumberPath, string>,
    bools: {
      'watchdog.autoRestart': s.watchdog.autoRestart,
      notifications: s.notifications,
      startAtLogin: s.startAtLogin,
      restartClustersWithDocker: s.restartClustersWithDocker,
    },
    dockerStartCommand: s.dockerStartCommand,
  };
}

/** The draft as settings, or the fields that are not whole numbers. */
export function fromDraft(d: Draft, base: Settings): { settings: Settings } | { errors: Partial<Record<Path, string>> } {
  const errors: Partial<Record<Path, string>> = {};
  const n = {} as Record<NumberPath, number>;
  for (const p of NUMBER_PATHS) {
    const text = d.numbers[p].trim();
    if (!/^\d+$/.test(text)) errors[p] = text === '' ? 'required: a whole number' : `"${text}" is not a whole number`;
    else n[p] = Number(text);
  }
  if (Object.keys(errors).length > 0) return { errors };
  return {
    settings: {
      ...base,
      port: n.port,
      dockerStartCommand: d.dockerStartCommand.trim(),
      restartClustersWithDocker: d.bools.restartClustersWithDocker,
      watchdog: {
        ...base.watchdog,
        intervalMs: n['watchdog.intervalMs'],
        slowMs: n['watchdog.slowMs'],
        missesBeforeRestart: n['watchdog.missesBeforeRestart'],
        autoRestart: d.bools['watchdog.autoRestart'],
      },
      probe: { ...base.probe, intervalMs: n['probe.intervalMs'], deadlineMs: n['probe.deadlineMs'] },
      notifications: d.bools.notifications,
      startAtLogin: d.bools.startAtLogin,
    },
  };
}

export function SettingsPage() {
  const controller = useController();
  const [loaded, setLoaded] = useState<{ settings?: Settings; failure?: ApiFailure }>({});
  const [draft, setDraft] = useState<Draft | undefined>();
  const [errors, setErrors] = useState<Partial<Record<Path, string>>>({});
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState<{ restartNeeded: boolean } | undefined>();
  const [saveFailure, setSaveFailure] = useState<{ failure: ApiFailure; field?: string } | undefined>();

  const load = useCallback(() => {
    setLoaded({});
    void controller.server.settings().then((r) => {
      if (r.ok && r.data && typeof r.data.port === 'number') {
        setLoaded({ settings: r.data });
        setDraft(toDraft(r.data));
      } else setLoaded({ failure: r.ok ? { status: r.status, error: { error: 'the server sent no settings' } } : r.failure });
    });
  }, [controller]);
  useEffect(load, [load]);

  if (loaded.failure) return <Page><Failure title="Settings cannot be loaded" failure={loaded.failure} onRetry={load} /></Page>;
  if (!loaded.settings || !draft) return <Page><Loading what="settings" /></Page>;
  const base = loaded.settings;
  const result = fromDraft(draft, base);
  const dirty = 'settings' in result ? JSON.stringify(result.settings) !== JSON.stringify(base) : true;
  const shownErrors: Partial<Record<Path, string>> = { ...errors, ...('errors' in result ? result.errors : {}) };

  const change = (f: (d: Draft) => Draft) => {
    setDraft((d) => (d ? f(d) : d));
    setSaved(undefined);
    setErrors({});
    setSaveFailure(undefined);
  };
  const save = async () => {
    if (!('settings' in result)) return;
    setSaving(true);
    const r = await controller.server.saveSettings(result.settings);
    setSaving(false);
    if (r.ok && r.data?.settings) {
      setLoaded({ settings: r.data.settings });
      setDraft(toDraft(r.data.settings));
      setSaved({ restartNeeded: r.data.restartNeeded === true });
      return;
    }
    if (!r.ok) {
      const field = r.failure.error.field;
      if (r.status === 422 && field && isPath(field)) {
        setErrors({ [field]: r.failure.error.error });
        requestAnimationFrame(() => document.getElementById(`setting-${field}`)?.focus());
      }
      else setSaveFailure({ failure: r.failure, ...(field ? { field } : {}) });
    }
  };

  const num = (p: NumberPath, label: string, hint: string, unit?: string) => (
    <FieldRow path={p} label={label} hint={hint} error={shownErrors[p]}>
      <span className="with-unit">
        <input
          id={`setting-${p}`}
          type="text"
          inputMode="numeric"
          value={draft.numbers[p]}
          aria-invalid={shownErrors[p] ? true : undefined}
          aria-describedby={`setting-${p}-hint${shownErrors[p] ? ` setting-${p}-error` : ''}`}
          onChange={(e) => change((d) => ({ ...d, numbers: { ...d.numbers, [p]: e.target.value } }))}
        />
        {unit && <span className="unit">{unit}</span>}
      </span>
    </FieldRow>
  );
  const bool = (p: BoolPath, label: string, hint: string) => (
    <div className="setting check-row" data-testid={`setting-${p}`}>
      <label className="check">
        <input type="checkbox" checked={draft.bools[p]} onChange={(e) => change((d) => ({ ...d, bools: { ...d.bools, [p]: e.target.checked } }))} />
        {label}
      </label>
      <span className="hint">{hint}</span>
    </div>
  );

  return (
    <Page>
      <form
        className="settings"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
        noValidate
      >
        <section className="card" aria-labelledby="s-docker">
          <h2 id="s-docker">Starting Docker</h2>
          <FieldRow path="dockerStartCommand" label="Start command" hint="What “Start Docker” runs. Leave empty for the platform's default." error={shownErrors.dockerStartCommand}>
            <input
              id="setting-dockerStartCommand"
              type="text"
              className="mono"
              value={draft.dockerStartCommand}
              placeholder="platform default"
              spellCheck={false}
              aria-describedby="setting-dockerStartCommand-hint"
              onChange={(e) => change((d) => ({ ...d, dockerStartCommand: e.target.value }))}
            />
          </FieldRow>
          <div className="presets" role="group" aria-label="Common start commands">
            {DOCKER_START_PRESETS.map((p) => (
              <button
                key={p.label}
                type="button"
                className="button small"
                aria-pressed={draft.dockerStartCommand.trim() === p.command}
                title={p.command ? `${p.command}${p.note ? ` — ${p.note}` : ''}` : p.note}
                onClick={() => change((d) => ({ ...d, dockerStartCommand: p.command }))}
              >
                {p.label}
              </button>
            ))}
          </div>
          {bool('restartClustersWithDocker', 'Start the clusters with Docker', 'Start Docker also starts the clusters that were running, waits for their APIs and repairs their contexts: one click.')}
        </section>

        <section className="card" aria-labelledby="s-watchdog">
          <h2 id="s-watchdog">API server watchdog</h2>
          <div className="settings-grid">
            {num('watchdog.intervalMs', 'Ping every', 'How often the supervisor asks the API worker if it is alive.', 'ms')}
            {num('watchdog.slowMs', 'Slow after', 'An answer slower than this marks the server slow.', 'ms')}
            {num('watchdog.missesBeforeRestart', 'Misses before hung', 'Missed pings in a row that mark the server hung.')}
          </div>
          {bool('watchdog.autoRestart', 'Restart a hung server by itself', 'Otherwise the dashboard and the tray offer “Restart server”.')}
        </section>

        <section className="card" aria-labelledby="s-probe">
          <h2 id="s-probe">Cluster probes</h2>
          <div className="settings-grid">
            {num('probe.intervalMs', 'Probe every', 'How often each healthy context is asked for its health.', 'ms')}
            {num('probe.deadlineMs', 'Deadline', 'A probe with no answer by then marks the context unreachable.', 'ms')}
          </div>
        </section>

        <section className="card" aria-labelledby="s-app">
          <h2 id="s-app">App</h2>
          <div className="settings-grid">{num('port', 'Port', 'Where the dashboard and the API listen, on 127.0.0.1. Takes effect after a restart.')}</div>
          {bool('notifications', 'Desktop notifications', 'When the overall state turns to error, and when a task finishes.')}
          {bool('startAtLogin', 'Start at login', 'Open Kindtray in the tray when you log in.')}
        </section>

        <div className="save-bar">
          <button type="submit" className="button primary" disabled={!dirty || saving || 'errors' in result} data-testid="settings-save">
            {saving && <Spinner />}
            {saving ? 'Saving…' : 'Save'}
          </button>
          <button type="button" className="button" disabled={!dirty || saving} onClick={() => change(() => toDraft(base))}>
            Undo changes
          </button>
          <button
            type="button"
            className="button"
            disabled={saving || JSON.stringify(DEFAULT_SETTINGS) === JSON.stringify('settings' in result ? result.settings : undefined)}
            title="Every field to its default; nothing is saved until you press Save."
            data-testid="settings-defaults"
            onClick={() => change(() => toDraft(DEFAULT_SETTINGS))}
          >
            Restore defaults
          </button>
          {'errors' in result && <span className="text-error small">Fix the marked fields to save.</span>}
          {saved && (
            <span className="small" role="status" data-testid="settings-saved">
              ✓ Saved.{saved.restartNeeded && ' Some changes take effect when Kindtray restarts.'}
            </span>
          )}
          {saveFailure && (
            <span className="text-error small" role="alert" data-testid="settings-error">
              Not saved: {saveFailure.failure.error.error}
              {saveFailure.field ? ` (${saveFailure.field})` : ''}
            </span>
          )}
        </div>
      </form>
    </Page>
  );
}

const PATHS: readonly string[] = [...NUMBER_PATHS, 'watchdog.autoRestart', 'notifications', 'startAtLogin', 'restartClustersWithDocker', 'dockerStartCommand'];
const isPath = (p: string): p is Path => PATHS.includes(p);

function Page({ children }: { children: ReactNode }) {
  return (
    <>
      <div className="page-head">
        <h1>Settings</h1>
      </div>
      {children}
    </>
  );
}

function FieldRow({ path, label, hint, error, children }: { path: Path; label: string; hint: string; error: string | undefined; children: ReactNode }) {
  return (
    <div className={`setting field${error ? ' invalid' : ''}`} data-testid={`setting-${path}`}>
      <label htmlFor={`setting-${path}`}>{label}</label>
      {children}
      <span className="hint" id={`setting-${path}-hint`}>
        {hint}
      </span>
      {error && (
        <span className="field-error" id={`setting-${path}-error`} data-testid={`setting-error-${path}`}>
          {error}
        </span>
      )}
    </div>
  );
}
