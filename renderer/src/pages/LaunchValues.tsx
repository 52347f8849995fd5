// The Launch page's fields for the envs and secrets the task leaves null: a
// launch must give them (as `kindtray launch --env/--secret` does). Secrets are
// password fields, kept in the page's memory only.

import type { ValidationIssue } from '../../../shared/task/index.ts';
import type { GivenValues } from '../launch/launch-values.ts';

export function LaunchValues(props: { required: { envs: string[]; secrets: string[] } | undefined; given: GivenValues; errors: ValidationIssue[]; set: (given: GivenValues) => void }) {
  const r = props.required;
  if (!r || r.envs.length + r.secrets.length === 0) return null;
  const rows = [...r.envs.map((name) => ({ kind: 'envs' as const, name })), ...r.secrets.map((name) => ({ kind: 'secrets' as const, name }))];
  return (
    <section className="card" aria-labelledby="values-title" data-testid="launch-values">
      <h2 id="values-title">Needed at launch</h2>
      <p className="muted small">The task leaves these null. Secrets go to a Kubernetes Secret of the task&apos;s own and are never shown again.</p>
      <div className="form-grid">
        {rows.map(({ kind, name }) => {
          const id = `value-${kind}-${name}`;
          const issues = props.errors.filter((e) => e.path === `${kind}.${name}`);
          const value = props.given[kind][name] ?? '';
          return (
            <div key={id} className={`field wide${issues.length > 0 ? ' invalid' : ''}`} data-testid={id}>
              <label htmlFor={id}>
                {kind === 'envs' ? 'env' : 'secret'} <code>{name}</code>
              </label>
              <input
                id={id}
                type={kind === 'secrets' ? 'password' : 'text'}
                autoComplete={kind === 'secrets' ? 'new-password' : 'off'}
                spellCheck={false}
                value={value}
                onChange={(e) => props.set({ ...props.given, [kind]: { ...props.given[kind], [name]: e.target.value } })}
              />
            </div>
          );
        })}
      </div>
    </section>
  );
}
