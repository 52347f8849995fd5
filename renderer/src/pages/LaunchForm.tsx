// The Launch page's form for the common fields. The YAML is the truth: each
// field shows the YAML's value and an edit rewrites that line of the YAML
// (launch/task-form.ts); a field's errors are shown under it.

import { useState, type ReactNode } from 'react';
import type { HealthSnapshot } from '../../../shared/snapshot.ts';
import type { ValidationIssue } from '../../../shared/task/index.ts';
import { CONTEXT_WORDS } from '../../../shared/view-words.ts';
import { issueBelongsTo, type FormField, type FormRead } from '../launch/task-form.ts';

export function CommonFields(props: { form: FormRead; errors: ValidationIssue[]; snapshot: HealthSnapshot | undefined; defaultTarget: string | undefined; edit: (field: FormField, value: string) => void }) {
  const { form, snapshot, edit } = props;
  // Problems with the target's health are on `resources`: they belong to "Runs on".
  const fieldIssues = (field: FormField): ValidationIssue[] =>
    props.errors.filter((e) => issueBelongsTo(e.path, field) || (field === 'infra' && e.path === 'resources'));
  return (
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
            <TargetSelect id={id} describedBy={describedBy} value={form.values.infra} snapshot={snapshot} defaultTarget={form.values.infra === '' ? props.defaultTarget : undefined} disabled={!form.editable} onChange={(v) => edit('infra', v)} />
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
