// Overview: the banner led by the root problem, then one card per subject —
// Docker, each cluster, the kube contexts, the API server — each naming its
// own problem and carrying the fix for it (the root's, when it follows from one).

import { useEffect } from 'react';
import { problemIds, serverNotRunning } from '../../../shared/problems.ts';
import type { ClusterHealth, ContextHealth, DockerHealth, HealthSnapshot, NodeHealth, Problem, ServerHealth } from '../../../shared/snapshot.ts';
import { formatPortMapping } from '../../../shared/status-text.ts';
import { CLUSTER_WORDS, CONTEXT_WORDS, DOCKER_WORDS, nodesReady } from '../../../shared/view-words.ts';
import { Badge, Empty, Facts, FixButton, TableHead } from '../components/common.tsx';
import { FixProgress } from '../components/fix-progress.tsx';
import { OverallBanner } from '../components/shell.tsx';
import { CLUSTER_TONE, CONTEXT_TONE, DOCKER_TONE, SERVER_TONE, formatAgo, formatDuration, useNow } from '../format.ts';
import { snapshotAgeMs } from '../store/state.ts';
import { useDashboard } from '../store/store.ts';

export function Overview() {
  const snapshot = useDashboard((s) => s.status?.snapshot);
  return (
    <>
      <OverallBanner />
      <FixProgress />
      {snapshot ? <Cards snapshot={snapshot} /> : <SkeletonCards />}
    </>
  );
}

function SkeletonCards() {
  return (
    <div className="cards" aria-hidden="true">
      {['Docker', 'Clusters', 'Contexts', 'Server'].map((t) => (
        <section className="card skeleton" key={t}>
          <h2>{t}</h2>
          <div className="skeleton-line" />
          <div className="skeleton-line short" />
        </section>
      ))}
    </div>
  );
}

/** Set once the first real cards are on screen: what the "first meaningful paint" benchmark measures. */
export const FIRST_CARDS_MARK = 'kindtray:first-cards';

function Cards({ snapshot }: { snapshot: HealthSnapshot }) {
  useEffect(() => {
    if (performance.getEntriesByName(FIRST_CARDS_MARK).length === 0) performance.mark(FIRST_CARDS_MARK);
  }, []);
  const stale = useDashboard((s) => s.connection.phase !== 'live');
  const status = useDashboard((s) => s.status);
  const ageMs = snapshotAgeMs(status, useNow(1000)) ?? 0;
  const noClusters = snapshot.problems.find((p) => p.id === problemIds.noClusters);
  return (
    <div className={`cards${stale ? ' stale' : ''}`}>
      <DockerCard docker={snapshot.docker} problems={snapshot.problems} />
      <ServerCard server={snapshot.server} problems={snapshot.problems} ageMs={ageMs} />
      {snapshot.clusters.map((c) => (
        <ClusterCard key={c.name} cluster={c} problems={snapshot.problems} />
      ))}
      {snapshot.clusters.length === 0 && (
        <section className="card" data-testid="card-clusters-empty">
          <h2>Clusters</h2>
          {snapshot.docker.state === 'running' ? (
            <Empty title={noClusters?.title ?? 'No KinD clusters'}>
              Create one with <code>kind create cluster --name dev</code>; it shows up here within seconds.
            </Empty>
          ) : (
            <Empty title="Clusters cannot be seen">Docker is {DOCKER_WORDS[snapshot.docker.state]}: KinD clusters live in Docker containers.</Empty>
          )}
        </section>
      )}
      <ContextsCard contexts={snapshot.contexts} snapshot={snapshot} />
    </div>
  );
}

/** A subject's own problem: what is wrong, and the fix (the root's, when this one follows from another). */
function ProblemNote({ problem, problems }: { problem: Problem | undefined; problems: readonly Problem[] }) {
  if (!problem) return null;
  const root = problem.causedBy !== undefined ? problems.find((p) => p.id === problem.causedBy) : undefined;
  const fix = root ? root.fix : problem.fix;
  return (
    <div className="problem" data-severity={problem.severity} data-problem-id={problem.id} data-testid="card-problem">
      <strong>{problem.title}</strong>
      {root ? (
        <p>
          Caused by: <span className="root-ref">{root.title}</span>
        </p>
      ) : (
        problem.detail && <p>{problem.detail}</p>
      )}
      {fix && <FixButton fix={fix} primary={!root} />}
    </div>
  );
}

const find = (problems: readonly Problem[], id: string) => problems.find((p) => p.id === id);

function DockerCard({ docker, problems }: { docker: DockerHealth; problems: readonly Problem[] }) {
  const problem = find(problems, problemIds.docker(docker.state));
  return (
    <section className="card" data-testid="card-docker" data-state={docker.state} aria-labelledby="card-docker-title">
      <div className="card-head">
        <h2 id="card-docker-title">Docker</h2>
        <Badge tone={DOCKER_TONE[docker.state]}>{DOCKER_WORDS[docker.state]}</Badge>
      </div>
      <Facts
        rows={[
          ['Endpoint', <code key="e">{docker.endpoint}</code>],
          ['Found by', docker.endpointSource],
          ['Version', docker.version],
          ['API', docker.apiVersion],
          ['Cause', !problem ? docker.cause : undefined],
        ]}
      />
      <ProblemNote problem={problem} problems={problems} />
    </section>
  );
}

function ClusterCard({ cluster, problems }: { cluster: ClusterHealth; problems: readonly Problem[] }) {
  const problem = find(problems, problemIds.cluster(cluster.name, cluster.state));
  const titleId = `card-cluster-${cluster.name}-title`;
  return (
    <section className="card" data-testid={`card-cluster:${cluster.name}`} data-state={cluster.state} aria-labelledby={titleId}>
      <div className="card-head">
        <h2 id={titleId}>
          <span className="kind">Cluster</span> {cluster.name}
        </h2>
        <Badge tone={CLUSTER_TONE[cluster.state]}>{CLUSTER_WORDS[cluster.state]}</Badge>
      </div>
      <Facts
        rows={[
          ['Context', <code key="c">{cluster.context}</code>],
          ['API', cluster.apiEndpoint ? <code key="a">{cluster.apiEndpoint}</code> : undefined],
          ['Kubernetes', cluster.kubernetesVersion],
          [
            'Ports',
            cluster.portMappings.length > 0 ? (
              <span key="p" className="chips">
                {cluster.portMappings.map((m) => (
                  <code key={`${m.hostIp}:${m.hostPort}/${m.protocol}`} className="chip" title={`${m.hostIp}:${m.hostPort} on this machine → ${m.containerPort}/${m.protocol} in the node`}>
                    {formatPortMapping(m)}
                  </code>
                ))}
              </span>
            ) : undefined,
          ],
        ]}
      />
      {cluster.nodes.length > 0 ? (
        <table className="mini-table" aria-label={`Nodes of ${cluster.name}`}>
          <caption>
            Nodes <span className="muted">({nodesReady(cluster)} ready)</span>
          </caption>
          <TableHead columns={['Node', 'Role', 'Container', 'Ready']} />
          <tbody>
            {cluster.nodes.map((n) => (
              <tr key={n.name}>
                <td>
                  <code>{n.name}</code>
                </td>
                <td>{n.role}</td>
                <td>
                  <NodeState node={n} lastSeenAt={cluster.lastSeenAt} starting={cluster.state === 'starting'} />
                </td>
                <td>{n.ready === undefined ? <span className="muted">—</span> : n.ready ? 'yes' : <strong className="text-error">no</strong>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted small">No node containers seen{cluster.state === 'unknown' ? ' (Docker cannot be asked)' : ''}.</p>
      )}
      <ProblemNote problem={problem} problems={problems} />
    </section>
  );
}

/**
 * A node container's state; while Docker cannot be asked, what it said last is grey and dated, never green.
 * While its cluster starts, a container not up yet is amber: on its way, not a fault.
 */
function NodeState({ node, lastSeenAt, starting }: { node: NodeHealth; lastSeenAt: number | undefined; starting: boolean }) {
  const now = useNow();
  if (node.state !== 'unknown') return <Badge tone={node.state === 'running' ? 'ok' : starting ? 'warn' : 'error'}>{node.state}</Badge>;
  const when = lastSeenAt !== undefined ? ` ${formatAgo(now - lastSeenAt)}` : '';
  // The badge stays short (the table must fit its card); what Docker said last is dated history under it.
  return (
    <>
      <Badge tone="unknown" testId={`node-state:${node.name}`}>
        unknown
      </Badge>
      {node.lastSeenState && (
        <div className="muted small">
          last seen {node.lastSeenState}
          {when}
        </div>
      )}
    </>
  );
}

function ServerCard({ server, problems, ageMs }: { server: ServerHealth; problems: readonly Problem[]; ageMs: number }) {
  const answering = server.state === 'healthy' || server.state === 'slow';
  const problem = find(problems, problemIds.server(server.state));
  return (
    <section className="card" data-testid="card-server" data-state={server.state} aria-labelledby="card-server-title">
      <div className="card-head">
        <h2 id="card-server-title">API server</h2>
        <Badge tone={serverNotRunning(server) ? 'idle' : SERVER_TONE[server.state]}>{serverNotRunning(server) ? 'not running' : server.state}</Badge>
      </div>
      <Facts
        rows={[
          ['Port', server.port],
          ['PID', server.pid],
          // The last latency of a worker that no longer answers says nothing about it now.
          ['Latency', answering && server.latencyMs !== undefined ? formatDuration(server.latencyMs) : undefined],
          ['Uptime', server.uptimeMs !== undefined ? formatDuration(server.uptimeMs + ageMs) : undefined],
          ['Restarts', server.restarts ?? 0],
          ['Cause', !problem ? server.cause : undefined],
        ]}
      />
      <ProblemNote problem={problem} problems={problems} />
    </section>
  );
}

function ContextsCard({ contexts, snapshot }: { contexts: ContextHealth[]; snapshot: HealthSnapshot }) {
  const fileProblems = snapshot.problems.filter((p) => p.id.startsWith('kubeconfig:'));
  // A current-context naming nothing appears as a problem without a context entry.
  const danglingCurrent = snapshot.problems.filter(
    (p) => p.id.startsWith('context:') && p.id.endsWith(':dangling') && !contexts.some((c) => p.id === problemIds.context(c.name, 'dangling')),
  );
  return (
    <section className="card wide" data-testid="card-contexts" aria-labelledby="card-contexts-title">
      <div className="card-head">
        <h2 id="card-contexts-title">Kube contexts</h2>
        {snapshot.kubeconfig?.currentContext && (
          <span className="muted small">
            current: <code>{snapshot.kubeconfig.currentContext}</code>
          </span>
        )}
      </div>
      {contexts.length === 0 && danglingCurrent.length === 0 ? (
        <Empty title="No contexts in your kubeconfig">KinD adds one (kind-NAME) when it creates a cluster.</Empty>
      ) : (
        <ul className="context-list">
          {contexts.map((c) => (
            <ContextRow key={c.name} context={c} problems={snapshot.problems} />
          ))}
          {danglingCurrent.map((p) => (
            <li key={p.id} className="context-row" data-testid={`card-context:${p.id.slice('context:'.length, -':dangling'.length)}`} data-state="dangling">
              <ProblemNote problem={p} problems={snapshot.problems} />
            </li>
          ))}
        </ul>
      )}
      {fileProblems.map((p) => (
        <ProblemNote key={p.id} problem={p} problems={snapshot.problems} />
      ))}
    </section>
  );
}

function ContextRow({ context, problems }: { context: ContextHealth; problems: readonly Problem[] }) {
  const problem = find(problems, problemIds.context(context.name, context.state));
  return (
    <li className="context-row" data-testid={`card-context:${context.name}`} data-state={context.state} data-current={context.current ? 'true' : undefined}>
      <div className="context-line">
        <span className="context-name">
          <code>{context.name}</code>
          {context.current && <span className="tag">current</span>}
        </span>
        <Badge tone={CONTEXT_TONE[context.state]}>{CONTEXT_WORDS[context.state]}</Badge>
        <span className="muted small context-server">
          {context.server}
          {context.latencyMs !== undefined && context.state === 'ok' ? ` · ${formatDuration(context.latencyMs)}` : ''}
        </span>
      </div>
      <ProblemNote problem={problem} problems={problems} />
    </li>
  );
}
