// Launch: a YAML editor and a form for the common fields, kept in sync (the
// YAML is the truth; see launch/task-form.ts); validation as you type, errors
// at their field and line; a launch button that says why it is disabled and
// offers the fix that would enable it; then straight to the task's logs.

import { useEffect, useImperativeHandle, useMemo, useRef, useState, type ReactNode, type Ref } from 'react';
import type { HealthSnapshot } from '../../../shared/snapshot.ts';
import type { ValidationIssue } from '../../../shared/task/index.ts';
import { CONTEXT_WORDS } from '../../../shared/view-words.ts';
import { FixButton, Spinner } from '../components/common.tsx';
import { formatAgo, useNow } from '../format.ts';
import { clientCheck, fromServer, launchGate, type TaskCheck } from '../launch/check.ts';
import { exampleTask, issueBelongsTo, readForm, writeField, type FormField } from '../launch/task-form.ts';
import { navigate } from '../route.ts';
import { snapshotAgeMs } from '../store/state.ts';
import { useController, useDashboard } from '../store/store.ts';
import type { ApiFailure } from '../transport.ts';

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

interface ServerCheck {
  text: string;
  at: number;
  check?: TaskCheck;
  failure?: ApiFailure;
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
  const check = parses && serverFresh?.check ? serverFresh.check : client;
  const serverTrouble = parses ? (serverFresh?.failure ?? (server?.failure && !serverFresh ? server.failure : undefined)) : undefined;
  const gate = launchGate(check, { whenReady, serverTrouble, serverState: snapshot?.server.state, launching });
  const form = readForm(text);

  const launch = async () => {
    setLaunching(true);
    setLaunchFailure(undefined);
    const r = await controller.server.launch(text, whenReady);
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

  const fieldIssues = (field: FormField): ValidationIssue[] =>
    check.errors.filter((e) => issueBelongsTo(e.path, field) || (field === 'infra' && e.path === 'resources'));

  return (
    <>
      <div className="page-head">
        <h1>Launch a task</h1>
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
          <section className="card" aria-labelledby="form-title">
            <h2 id="form-title">Common fields</h2>
            {!form.editable && (
              <p className="notice warn" data-testid="form-disabled">
                The form is paused: {form.why}.
              </p>
            )}
            <div className="form-grid">
              <Field label="Name" field="name" issues={fieldIssues('name')} hint="lower-case letters, digits and -" wide>
                {(id, describedBy) => (
                  <DraftInput id={id} describedBy={describedBy} value={form.values.name} disabled={!form.editable} placeholder="named for you when empty" onChange={(v) => edit('name', v)} />
                )}
              </Field>
              <Field label="Runs on" field="infra" issues={fieldIssues('infra')} wide>
                {(id, describedBy) => (
                  <TargetSelect id={id} describedBy={describedBy} value={form.values.infra} snapshot={snapshot} defaultTarget={form.values.infra === '' ? check.target?.context : undefined} disabled={!form.editable} onChange={(v) => edit('infra', v)} />
                )}
              </Field>
              <Field label="CPUs" field="cpus" issues={fieldIssues('cpus')} hint='e.g. 1, or "2+"'>
                {(id, describedBy) => <DraftInput id={id} describedBy={describedBy} value={form.values.cpus} disabled={!form.editable} inputMode="decimal" onChange={(v) => edit('cpus', v)} />}
              </Field>
              <Field label="Memory (GiB)" field="memory" issues={fieldIssues('memory')} hint='e.g. 2, or "4+"'>
                {(id, describedBy) => <DraftInput id={id} describedBy={describedBy} value={form.values.memory} disabled={!form.editable} inputMode="decimal" onChange={(v) => edit('memory', v)} />}
              </Field>
              <Field label="Ports" field="ports" issues={fieldIssues('ports')} hint="e.g. 8080, 9000-9002" wide>
                {(id, describedBy) => <DraftInput id={id} describedBy={describedBy} value={form.values.ports} disabled={!form.editable} onChange={(v) => edit('ports', v)} />}
              </Field>
              <Field label="Image" field="image" issues={fieldIssues('image')} wide>
                {(id, describedBy) => (
                  <DraftInput id={id} describedBy={describedBy} value={form.values.image} disabled={!form.editable} placeholder="docker:python:3.12-slim" onChange={(v) => edit('image', v)} />
                )}
              </Field>
              <Field label="Run" field="run" issues={fieldIssues('run')} wide>
                {(id, describedBy) => <DraftInput id={id} describedBy={describedBy} value={form.values.run} disabled={!form.editable} multiline onChange={(v) => edit('run', v)} />}
              </Field>
            </div>
            {form.complex.length > 0 && <p className="muted small">Edit {form.complex.join(', ')} in the YAML: the form cannot show its value.</p>}
          </section>

          <section className="card launch-bar" data-testid="launch-bar" aria-label="Launch">
            <label className="check">
              <input type="checkbox" checked={whenReady} onChange={(e) => setWhenReady(e.target.checked)} data-testid="launch-when-ready" />
              Launch when ready <span className="muted small">(keep the task waiting while its cluster is down)</span>
            </label>
            <div className="launch-row">
              <button
                type="button"
                className="button primary big"
                disabled={!gate.enabled}
                aria-describedby={gate.reason ? 'launch-reason' : undefined}
                onClick={() => void launch()}
                data-testid="launch-button"
              >
                {launching && <Spinner />}
                {gate.label}
              </button>
              {gate.fix && <FixButton fix={gate.fix} primary={!gate.enabled} />}
            </div>
            {gate.reason && (
              <p id="launch-reason" className={gate.enabled ? 'muted small' : 'launch-reason'} data-testid="launch-blocked-reason">
                {gate.reason}
              </p>
            )}
            {launchFailure && (
              <p className="launch-reason" role="alert" data-testid="launch-failure">
                The launch failed: {launchFailure.error.error}
              </p>
            )}
          </section>

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

function CheckPanel(props: { check: TaskCheck; parses: boolean; server: ServerCheck | undefined; serverFresh: ServerCheck | undefined; now: number; jump: (line: number, column?: number) => void }) {
  const { check, parses, serverFresh, now, jump } = props;
  let source: ReactNode;
  if (!parses) source = 'Checked here, as you type. The server checks the cluster side once the YAML is valid.';
  else if (serverFresh?.check) source = `Checked by the server ${formatAgo(now - serverFresh.at)}.`;
  else if (serverFresh?.failure) source = `Checked here against the last known state: the server did not answer (${serverFresh.failure.error.error}).`;
  else
    source = (
      <>
        <Spinner /> Checked here; asking the server…
      </>
    );
  return (
    <section className="card" aria-labelledby="check-title" data-testid="check-panel" data-source={check.source}>
      <div className="card-head">
        <h2 id="check-title">Check</h2>
        <span className="muted small" data-testid="check-source" role="status">
          {source}
        </span>
      </div>
      {check.errors.length === 0 ? (
        <p className="ok-line" data-testid="validation-ok">
          ✓ No errors{check.target ? ` — runs on ${check.target.context}` : ''}.
        </p>
      ) : (
        <IssueList issues={check.errors} kind="error" jump={jump} testId="validation-errors" />
      )}
      {check.warnings.length > 0 && <IssueList issues={check.warnings} kind="warning" jump={jump} testId="validation-warnings" />}
      {check.ports.length > 0 && (
        <>
          <h3>Ports</h3>
          <ul className="port-plan" data-testid="port-plan">
            {check.ports.map((p) => (
              <li key={p.port} data-reachable={String(p.reachable)}>
                <strong>{p.port}</strong> {p.url ? <code>{p.url}</code> : null} <span className="muted">{p.how}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function IssueList({ issues, kind, jump, testId }: { issues: ValidationIssue[]; kind: 'error' | 'warning'; jump: (line: number, column?: number) => void; testId: string }) {
  return (
    <ul className={`issues ${kind}`} data-testid={testId} aria-label={kind === 'error' ? 'Errors' : 'Warnings'}>
      {issues.map((e, i) => (
        <li key={`${e.path}:${e.line ?? ''}:${i}`} data-testid={kind === 'error' ? 'validation-error' : 'validation-warning'} data-path={e.path} data-line={e.line}>
          <div className="issue-head">
            {e.line !== undefined ? (
              <button type="button" className="link line-ref" onClick={() => jump(e.line as number, e.column)} title="Show in the editor">
                line {e.line}
                {e.column !== undefined ? `:${e.column}` : ''}
              </button>
            ) : null}
            {e.path && <code className="issue-path">{e.path}</code>}
          </div>
          <div className="issue-message">{e.message}</div>
          {e.fix && <FixButton fix={e.fix} compact />}
        </li>
      ))}
    </ul>
  );
}

function Field(props: { label: string; field: FormField; issues: ValidationIssue[]; hint?: string; wide?: boolean; children: (id: string, describedBy: string | undefined) => ReactNode }) {
  const id = `field-${props.field}`;
  const describedBy = [props.hint ? `${id}-hint` : '', props.issues.length > 0 ? `${id}-errors` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${props.wide ? ' wide' : ''}${props.issues.length > 0 ? ' invalid' : ''}`} data-testid={`field-${props.field}`}>
      <label htmlFor={id}>{props.label}</label>
      {props.children(id, describedBy)}
      {props.hint && (
        <span id={`${id}-hint`} className="hint">
          {props.hint}
        </span>
      )}
      {props.issues.length > 0 && (
        <ul id={`${id}-errors`} className="field-errors" data-testid={`field-error-${props.field}`}>
          {props.issues.map((e, i) => (
            <li key={i}>{e.message}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** An input that shows the YAML's value, except while being typed in (so "2." is not read back as "2" mid-word). */
function DraftInput(props: { id: string; describedBy: string | undefined; value: string; onChange: (v: string) => void; disabled?: boolean; placeholder?: string; multiline?: boolean; inputMode?: 'decimal' }) {
  const [draft, setDraft] = useState<string | undefined>();
  const common = {
    id: props.id,
    'aria-describedby': props.describedBy,
    value: draft ?? props.value,
    disabled: props.disabled,
    placeholder: props.placeholder,
    spellCheck: false,
    onFocus: () => setDraft(props.value),
    onBlur: () => setDraft(undefined),
    onChange: (e: { target: { value: string } }) => {
      setDraft(e.target.value);
      props.onChange(e.target.value);
    },
  };
  return props.multiline ? <textarea {...common} rows={3} className="mono" /> : <input {...common} type="text" inputMode={props.inputMode} autoComplete="off" />;
}

function TargetSelect(props: { id: string; describedBy: string | undefined; value: string; snapshot: HealthSnapshot | undefined; defaultTarget: string | undefined; disabled: boolean; onChange: (v: string) => void }) {
  const contexts = props.snapshot?.contexts ?? [];
  const options = contexts.map((c) => ({ value: `k8s/${c.name}`, label: `${c.name}${c.current ? ' (current)' : ''} — ${CONTEXT_WORDS[c.state]}` }));
  for (const c of props.snapshot?.clusters ?? []) {
    if (!options.some((o) => o.value === `k8s/${c.context}`)) options.push({ value: `k8s/${c.context}`, label: `${c.context} — no kubeconfig context` });
  }
  if (props.value !== '' && !options.some((o) => o.value === props.value)) options.push({ value: props.value, label: `${props.value} (as written)` });
  return (
    <select id={props.id} aria-describedby={props.describedBy} value={props.value} disabled={props.disabled} onChange={(e) => props.onChange(e.target.value)}>
      <option value="">{props.defaultTarget ? `Default — ${props.defaultTarget}` : 'Default target'}</option>
      {options.map((o) => (
        <option key={o.value} value={o.value}>
          {o.label}
        </option>
      ))}
    </select>
  );
}

// ---------------------------------------------------------------------------
// The editor: a textarea with line numbers; lines with errors are marked.

interface EditorHandle {
  jumpTo(line: number, column?: number): void;
}

function YamlEditor(props: { text: string; onChange: (t: string) => void; errors: ValidationIssue[]; warnings: ValidationIssue[]; ref: Ref<EditorHandle> }) {
  const area = useRef<HTMLTextAreaElement>(null);
  const tabLeaves = useRef(false);
  const gutter = useRef<HTMLDivElement>(null);
  const lines = props.text.split('\n').length;
  const errorLines = new Map<number, string>();
  for (const w of props.warnings) if (w.line !== undefined) errorLines.set(w.line, 'warning');
  for (const e of props.errors) if (e.line !== undefined) errorLines.set(e.line, 'error');

  useImperativeHandle(props.ref, () => ({
    jumpTo(line: number, column = 1) {
      const el = area.current;
      if (!el) return;
      const starts = [0];
      for (let i = 0; i < props.text.length; i++) if (props.text[i] === '\n') starts.push(i + 1);
      const start = starts[line - 1] ?? props.text.length;
      const end = (starts[line] ?? props.text.length + 1) - 1;
      el.focus();
      el.setSelectionRange(Math.min(start + column - 1, end), end);
      const lineHeight = parseFloat(getComputedStyle(el).lineHeight) || 20;
      el.scrollTop = Math.max(0, (line - 3) * lineHeight);
    },
  }));

  return (
    <div className="editor">
      <div className="gutter" ref={gutter} aria-hidden="true">
        {Array.from({ length: lines }, (_, i) => (
          <div key={i} className={errorLines.get(i + 1) ?? undefined} data-line={i + 1}>
            {i + 1}
          </div>
        ))}
      </div>
      <textarea
        ref={area}
        className="code-input"
        value={props.text}
        onChange={(e) => props.onChange(e.target.value)}
        onScroll={(e) => {
          if (gutter.current) gutter.current.scrollTop = e.currentTarget.scrollTop;
        }}
        onKeyDown={(e) => {
          // Tab indents (YAML forbids tab characters); Escape then Tab leaves, as in other code editors.
          if (e.key === 'Tab' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && !tabLeaves.current) {
            e.preventDefault();
            const el = e.currentTarget;
            const { selectionStart: s, selectionEnd: t } = el;
            const next = `${props.text.slice(0, s)}  ${props.text.slice(t)}`;
            props.onChange(next);
            requestAnimationFrame(() => el.setSelectionRange(s + 2, s + 2));
          }
          tabLeaves.current = e.key === 'Escape';
        }}
        wrap="off"
        spellCheck={false}
        autoCapitalize="off"
        autoComplete="off"
        aria-label="Task YAML"
        aria-describedby="yaml-help"
        data-testid="yaml-editor"
      />
      <span id="yaml-help" className="sr-only">
        Tab inserts two spaces; press Escape, then Tab, to move on.
      </span>
    </div>
  );
}
