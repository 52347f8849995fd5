// Launch: a YAML editor and a form for the common fields, kept in sync (the
// YAML is the truth; see launch/task-form.ts); validation as you type, errors
// at their field and line; a launch button that says why it is disabled and
// offers the fix that would enable it; then straight to the task's logs.
// This file holds the page's state (the draft, the server's check, the launch);
// its parts are LaunchEditor, LaunchForm, LaunchBar and LaunchCheck.

import { useEffect, useMemo, useRef, useState } from 'react';
import type { HealthSnapshot } from '../../../shared/snapshot.ts';
import type { ValidationIssue } from '../../../shared/task/index.ts';
import { useNow } from '../format.ts';
import { clientCheck, fromServer, launchGate } from '../launch/check.ts';
import { launchBody, NO_VALUES, withGivenValues, type GivenValues } from '../launch/launch-values.ts';
import { exampleTask, readForm, writeField, type FormField } from '../launch/task-form.ts';
import { navigate } from '../route.ts';
import { snapshotAgeMs } from '../store/state.ts';
import { useController, useDashboard } from '../store/store.ts';
import type { ApiFailure } from '../transport.ts';
import { LoadImageButton } from './ClustersDialogs.tsx';
import { LaunchBar } from './LaunchBar.tsx';
import { CheckPanel, type ServerCheck } from './LaunchCheck.tsx';
import { YamlEditor, type EditorHandle } from './LaunchEditor.tsx';
import { CommonFields } from './LaunchForm.tsx';
import { LaunchValues } from './LaunchValues.tsx';

const DRAFT_KEY = 'kindtray.launch.draft';
const SERVER_CHECK_DEBOUNCE_MS = 300;

function loadDraft(): string {
  try {
    return localStorage.getItem(DRAFT_KEY) ?? exampleTask();
  } catch {
    return exampleTask();
  }
}
function saveDraft(text: string): void {
  try {
    localStorage.setItem(DRAFT_KEY, text);
  } catch {
    // Private mode or storage full: the draft lives as long as the page.
  }
}

/** Problems and states, without checkedAt: changes only when health does, so the server is asked again only then. */
const healthKey = (s: HealthSnapshot | undefined): string =>
  s ? `${s.overall}|${s.problems.map((p) => p.id).join(',')}|${s.contexts.map((c) => `${c.name}=${c.state}`).join(',')}` : '';

export function LaunchPage() {
  const controller = useController();
  const status = useDashboard((s) => s.status);
  const live = useDashboard((s) => s.connection.phase === 'live');
  const [text, setTextState] = useState(loadDraft);
  const [whenReady, setWhenReady] = useState(false);
  // In memory only: secrets never reach the saved draft.
  const [given, setGiven] = useState<GivenValues>(NO_VALUES);
  const [server, setServer] = useState<ServerCheck | undefined>();
  const [launching, setLaunching] = useState(false);
  const [launchFailure, setLaunchFailure] = useState<ApiFailure | undefined>();
  const editor = useRef<EditorHandle>(null);
  const now = useNow(1000);

  const setText = (t: string) => {
    setTextState(t);
    saveDraft(t);
    setLaunchFailure(undefined);
  };

  const snapshot = status?.snapshot;
  // While the stream is live the snapshot is current; when it is not, its real age decides ("state unknown").
  const age = live ? 0 : (snapshotAgeMs(status, now) ?? 0);
  const client = useMemo(() => clientCheck(text, snapshot, age), [text, snapshot, age]);
  const parses = client.task !== undefined;
  const key = healthKey(snapshot);

  useEffect(() => {
    if (!parses) return;
    const abort = new AbortController();
    const timer = setTimeout(() => {
      void controller.server
        .validate(text, abort.signal)
        .then((r) => {
          if (abort.signal.aborted) return;
          if (r.data && Array.isArray(r.data.errors)) setServer({ text, at: Date.now(), check: fromServer(r.data) });
          else setServer({ text, at: Date.now(), ...(r.ok ? {} : { failure: r.failure }) });
        })
        .catch(() => undefined);
    }, SERVER_CHECK_DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [controller, text, parses, key]);

  const serverFresh = server?.text === text ? server : undefined;
  const asChecked = parses && serverFresh?.check ? serverFresh.check : client;
  const check = withGivenValues(asChecked, given);
  const serverTrouble = parses ? (serverFresh?.failure ?? (server?.failure && !serverFresh ? server.failure : undefined)) : undefined;
  const gate = launchGate(check, { whenReady, serverTrouble, serverState: snapshot?.server.state, launching });
  const form = readForm(text);

  const launch = async () => {
    setLaunching(true);
    setLaunchFailure(undefined);
    const r = await controller.server.launch(text, whenReady, launchBody(asChecked, given));
    setLaunching(false);
    if (r.ok && r.data?.task) {
      controller.taskLaunched(r.data.task);
      navigate({ page: 'task', id: r.data.task.id });
      return;
    }
    if (!r.ok && r.status === 422) {
      const e = r.failure.error;
      const errors: ValidationIssue[] = e.errors ?? [{ path: e.field ?? '', message: e.error }];
      setServer({ text, at: Date.now(), check: { source: 'server', errors, warnings: [], ports: check.ports } });
      return;
    }
    setLaunchFailure(r.ok ? { status: r.status, error: { error: 'the server accepted the task but did not return it' } } : r.failure);
  };

  return (
    <>
      <div className="page-head">
        <h1>Launch a task</h1>
        <LoadImageButton image={client.task?.resources.image} cluster={check.target?.cluster} />
        <button type="button" className="button" onClick={() => setText(exampleTask())} data-testid="reset-example">
          Start from the example
        </button>
      </div>
      <div className="launch-grid">
        <section className="card editor-card" aria-labelledby="yaml-title">
          <div className="card-head">
            <h2 id="yaml-title">Task YAML</h2>
            <span className="muted small">SkyPilot-style; checked as you type</span>
          </div>
          <YamlEditor ref={editor} text={text} onChange={setText} errors={check.errors} warnings={check.warnings} />
        </section>

        <div className="launch-side">
          <CommonFields form={form} errors={check.errors} snapshot={snapshot} defaultTarget={check.target?.context} edit={edit} />

          <LaunchValues required={asChecked.requiredAtLaunch} given={given} errors={check.errors} set={setGiven} />

          <LaunchBar gate={gate} launching={launching} whenReady={whenReady} setWhenReady={setWhenReady} failure={launchFailure} launch={() => void launch()} />

          <CheckPanel check={check} parses={parses} server={server} serverFresh={serverFresh} now={now} jump={(l, c) => editor.current?.jumpTo(l, c)} />
        </div>
      </div>
    </>
  );

  function edit(field: FormField, value: string) {
    const r = writeField(text, field, value);
    if ('text' in r) setText(r.text);
  }
}
