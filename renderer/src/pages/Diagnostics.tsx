// Diagnostics: every check Kindtray makes — Docker, each cluster, each
// context, each kubeconfig file, the server — with its result, its cause and
// its fix; then every problem, roots with what follows from them; and a
// report to copy, secrets removed.

import { useEffect, useState, type ReactNode } from 'react';
import type { HealthResponse } from '../../../shared/api.ts';
import { VERSION } from '../../../shared/contracts/version.ts';
import { FIXES } from '../../../shared/fixes.ts';
import { isRoot, problemIds, serverNotRunning } from '../../../shared/problems.ts';
import type { HealthSnapshot, Problem } from '../../../shared/snapshot.ts';
import { CLUSTER_WORDS, CONTEXT_WORDS, DOCKER_WORDS, nodesReady } from '../../../shared/view-words.ts';
import { Badge, FixButton, Loading, TableHead } from '../components/common.tsx';
import { buildReport } from '../diagnostics/report.ts';
import { CLUSTER_TONE, CONTEXT_TONE, DOCKER_TONE, SERVER_TONE, SEVERITY_TONE, formatAgo, formatDuration, plural, useNow, type Tone } from '../format.ts';
import { snapshotAgeMs } from '../store/state.ts';
import { useController, useDashboard } from '../store/store.ts';
import { findBridge } from '../transport.ts';

/** The version this bundle was built from; the server's own may differ (an old tab, a newer server). */
export const DASHBOARD_VERSION = VERSION;

interface Check {
  subject: string;
  what: ReactNode;
  tone: Tone;
  result: string;
  facts: (string | undefined | false)[];
  problem?: Problem;
  cause?: string;
}

function checksOf(s: HealthSnapshot): Check[] {
  const byId = new Map(s.problems.map((p) => [p.id, p]));
  const checks: Check[] = [];
  const d = s.docker;
  const docker = byId.get(problemIds.docker(d.state));
  checks.push({
    subject: 'docker',
    what: 'Docker engine',
    tone: DOCKER_TONE[d.state],
    result: DOCKER_WORDS[d.state],
    facts: [d.endpoint + (d.endpointSource ? ` (${d.endpointSource})` : ''), d.version && `version ${d.version}`, d.apiVersion && `API ${d.apiVersion}`],
    ...(docker ? { problem: docker } : {}),
    ...(d.cause ? { cause: d.cause } : {}),
  });
  for (const c of s.clusters) {
    const p = byId.get(problemIds.cluster(c.name, c.state));
    checks.push({
      subject: `cluster:${c.name}`,
      what: (
        <>
          Cluster <strong>{c.name}</strong>
        </>
      ),
      tone: CLUSTER_TONE[c.state],
      result: CLUSTER_WORDS[c.state],
      facts: [c.nodes.length > 0 && `${nodesReady(c)} nodes ready`, c.apiEndpoint, c.kubernetesVersion],
      ...(p ? { problem: p } : {}),
      ...(c.cause ? { cause: c.cause } : {}),
    });
  }
  for (const c of s.contexts) {
    const p = byId.get(problemIds.context(c.name, c.state));
    checks.push({
      subject: `context:${c.name}`,
      what: (
        <>
          Context <strong>{c.name}</strong>
          {c.current && <span className="tag">current</span>}
        </>
      ),
      tone: CONTEXT_TONE[c.state],
      result: CONTEXT_WORDS[c.state],
      facts: [c.server, c.file, c.latencyMs !== undefined && formatDuration(c.latencyMs), c.probedAt && `probed ${new Date(c.probedAt).toLocaleTimeString()}`],
      ...(p ? { problem: p } : {}),
      ...(c.cause ? { cause: c.cause } : {}),
    });
  }
  for (const f of s.kubeconfig?.files ?? []) {
    const p = byId.get(problemIds.kubeconfig(f.path, f.state));
    checks.push({
      subject: `kubeconfig:${f.path}`,
      what: (
        <>
          Kubeconfig <code>{f.path}</code>
        </>
      ),
      tone: f.state === 'ok' ? 'ok' : f.state === 'missing' ? 'warn' : 'error',
      result: f.state,
      facts: [],
      ...(p ? { problem: p } : {}),
      ...(f.cause ? { cause: f.cause } : {}),
    });
  }
  const sv = s.server;
  const sp = byId.get(problemIds.server(sv.state));
  checks.push({
    subject: 'server',
    what: 'Kindtray API server',
    tone: serverNotRunning(sv) ? 'idle' : SERVER_TONE[sv.state],
    result: serverNotRunning(sv) ? 'not running' : sv.state,
    facts: [
      sv.port !== undefined && `port ${sv.port}`,
      sv.pid !== undefined && `pid ${sv.pid}`,
      sv.latencyMs !== undefined && `latency ${formatDuration(sv.latencyMs)}`,
      sv.uptimeMs !== undefined && `up ${formatDuration(sv.uptimeMs)}`,
      plural(sv.restarts ?? 0, 'restart'),
    ],
    ...(sp ? { problem: sp } : {}),
    ...(sv.cause ? { cause: sv.cause } : {}),
  });
  return checks;
}

export function DiagnosticsPage() {
  const controller = useController();
  const status = useDashboard((s) => s.status);
  const connection = useDashboard((s) => s.connection.phase);
  const [health, setHealth] = useState<{ data?: HealthResponse; error?: string }>({});
  const [copy, setCopy] = useState<{ state: 'idle' | 'copied' | 'manual'; text?: string }>({ state: 'idle' });
  const now = useNow(5000);

  useEffect(() => {
    void controller.server.health().then((r) => setHealth(r.ok ? { data: r.data } : { error: r.failure.error.error }));
  }, [controller]);

  if (!status) return <Loading what="the checks" />;
  const s = status.snapshot;
  const checks = checksOf(s);
  const roots = s.problems.filter(isRoot);
  const age = snapshotAgeMs(status, now);

  const copyReport = async () => {
    const text = buildReport({
      now: new Date(),
      dashboardVersion: DASHBOARD_VERSION,
      transport: transportKind(),
      userAgent: navigator.userAgent,
      connection,
      snapshot: s,
      ...(age !== undefined ? { snapshotAgeMs: age } : {}),
      ...(health.data ? { health: health.data } : {}),
      ...(health.error ? { healthError: health.error } : {}),
    });
    try {
      await navigator.clipboard.writeText(text);
      setCopy({ state: 'copied', text });
    } catch {
      setCopy({ state: 'manual', text });
    }
  };

  return (
    <>
      <div className="page-head">
        <h1>Diagnostics</h1>
        <div className="actions">
          <span className="muted small">
            Checked {age !== undefined ? formatAgo(age) : '—'}
            {health.data && ` · Kindtray ${health.data.version}, dashboard ${DASHBOARD_VERSION}`}
          </span>
          <FixButton fix={FIXES.refreshStatus} compact />
          <button type="button" className="button primary" onClick={() => void copyReport()} data-testid="copy-report">
            Copy report
          </button>
        </div>
      </div>
      {copy.state === 'copied' && (
        <p className="notice ok" role="status" data-testid="copy-report-done">
          Report copied ({copy.text?.length.toLocaleString()} characters, tokens and certificate data removed). Paste it into an issue.
        </p>
      )}
      {copy.state === 'manual' && (
        <div className="notice warn" role="status" data-testid="copy-report-manual">
          <p>The clipboard refused; select the report and copy it by hand (tokens and certificate data are already removed).</p>
          <textarea className="report mono" readOnly value={copy.text} rows={12} onFocus={(e) => e.currentTarget.select()} aria-label="Diagnostics report" />
        </div>
      )}

      <div className="table-wrap">
        <table className="table checks" data-testid="checks">
          <TableHead columns={['Check', 'Result', 'Cause', 'Fix']} />
          <tbody>
            {checks.map((c) => {
              const root = c.problem?.causedBy !== undefined ? s.problems.find((p) => p.id === c.problem?.causedBy) : undefined;
              const fix = root?.fix ?? c.problem?.fix;
              return (
                <tr key={c.subject} data-testid={`check-${c.subject}`} data-tone={c.tone}>
                  <th scope="row">
                    <div>{c.what}</div>
                    <div className="muted small">{c.facts.filter(Boolean).join(' · ')}</div>
                  </th>
                  <td>
                    <Badge tone={c.tone}>{c.result}</Badge>
                  </td>
                  <td className="cause">
                    {c.problem ? (
                      <>
                        <strong>{c.problem.title}</strong>
                        <div>{root ? `Follows from: ${root.title}.` : c.problem.detail}</div>
                      </>
                    ) : c.cause ? (
                      c.cause
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                  <td>{fix ? <FixButton fix={fix} compact /> : <span className="muted">—</span>}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>

      <section className="card" aria-labelledby="problems-title" data-testid="problem-list">
        <h2 id="problems-title">Problems</h2>
        {roots.length === 0 ? (
          <p className="ok-line">✓ None: every check passes.</p>
        ) : (
          <ul className="problems">
            {roots.map((p) => (
              <li key={p.id} data-problem-id={p.id} data-severity={p.severity}>
                <div className="problem-line">
                  <Badge tone={SEVERITY_TONE[p.severity]}>{p.severity}</Badge>
                  <strong>{p.title}</strong>
                  {p.fix && <FixButton fix={p.fix} compact />}
                </div>
                <p>{p.detail}</p>
                {s.problems.some((f) => f.causedBy === p.id) && (
                  <ul className="followers">
                    {s.problems
                      .filter((f) => f.causedBy === p.id)
                      .map((f) => (
                        <li key={f.id} data-problem-id={f.id}>
                          {f.title}
                        </li>
                      ))}
                  </ul>
                )}
                <code className="muted small">{p.id}</code>
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}

function transportKind(): 'browser' | 'electron' {
  return findBridge() ? 'electron' : 'browser';
}
