// The tray as plain data: icon, tooltip and menu, a pure function of the
// snapshot. electron/app/tray.ts only turns this into Electron objects and sends
// clicks back (a fix item runs its fixId; an action item names what to do, on
// which cluster, or which dashboard page to open). Each cluster is a submenu:
// its state as the snapshot has it (never green before its API has answered),
// Start or Stop, Load image…, Open in dashboard, Delete….

import type { ClusterOperation } from './contracts/clusters.ts';
import { DASHBOARD_LINKS } from './dashboard-links.ts';
import { FIXES } from './fixes.ts';
import { OPERATION_VERBS, currentStep, operationTitle } from './operation-words.ts';
import { headline, isInProgress, isRoot, problemIds, serverNotRunning } from './problems.ts';
import { CLUSTER_WORDS, CONTEXT_WORDS, DOCKER_WORDS, allGoodSummary, nodesReady } from './view-words.ts';
import type { ClusterHealth, ContextHealth, DockerHealth, HealthSnapshot, OverallState, Problem, ServerHealth } from './snapshot.ts';

/** Windows cuts tray tooltips at 127 characters; the other platforms show at least that. */
export const TOOLTIP_MAX = 127;

/** `open-dashboard` with a `route` opens that page; `stop-cluster` names its `cluster`. */
export type TrayAction = 'launch-task' | 'open-dashboard' | 'stop-cluster' | 'toggle-start-at-login' | 'quit';

/** What an action acts on, when it is not the app as a whole. */
export interface TrayTarget {
  /** A dashboard hash (shared/dashboard-links.ts): `#/clusters/dev`, `#/new-cluster`. */
  route?: string;
  cluster?: string;
}

export interface TrayMenuItem extends TrayTarget {
  kind: 'status' | 'fix' | 'action' | 'separator' | 'checkbox' | 'submenu';
  label: string;
  /** For `fix` items: the fix to run (`start-docker`, `start-cluster:dev`, ...). */
  fixId?: string;
  /** For `action` and `checkbox` items. */
  action?: TrayAction;
  /** For `submenu` items: what opens beside it. */
  items?: TrayMenuItem[];
  checked?: boolean;
  /** Absent means enabled. Status lines are never clickable; a running fix is disabled. */
  enabled?: boolean;
  /** For `status` items: how the line's subject is doing, for a coloured dot. */
  state?: OverallState;
}

export interface TrayView {
  icon: OverallState;
  tooltip: string;
  menu: TrayMenuItem[];
}

export interface TrayOptions {
  /** Whether the app starts at login (the checkbox's state). */
  startAtLogin?: boolean;
  /** Cluster lines shown before "N more clusters…". */
  maxClusters?: number;
  /** Fix items shown before "N more fixes…". */
  maxFixes?: number;
  /** Cluster operations running now (create, delete, start, stop, load image), from the event stream: a line each, busy. */
  operations?: readonly ClusterOperation[];
}

const DEFAULT_MAX_CLUSTERS = 5;
const DEFAULT_MAX_FIXES = 4;

const SEPARATOR: TrayMenuItem = { kind: 'separator', label: '' };

/** One line, at most `max` characters; a cut line ends with "…". */
export function fitLine(text: string, max = TOOLTIP_MAX): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1).trimEnd()}…`;
}

const CLUSTER_DOT: Record<ClusterHealth['state'], OverallState> = {
  running: 'ok',
  starting: 'busy',
  degraded: 'warn',
  unknown: 'warn',
  stopped: 'error',
  unreachable: 'error',
};

const SERVER_DOT: Record<ServerHealth['state'], OverallState> = {
  healthy: 'ok',
  slow: 'warn',
  'port-conflict': 'warn',
  restarting: 'busy',
  hung: 'error',
  down: 'error',
};

function dockerLine(d: DockerHealth): TrayMenuItem {
  const version = d.state === 'running' && d.version ? ` ${d.version}` : '';
  return { kind: 'status', label: `Docker${version}: ${DOCKER_WORDS[d.state]}`, enabled: false, state: d.state === 'running' ? 'ok' : d.state === 'starting' ? 'busy' : 'error' };
}

/** A running cluster is green only once its context has answered: `checking` and `unknown` are not "ok" yet. */
function clusterDot(c: ClusterHealth, context: ContextHealth | undefined): OverallState {
  if (c.state !== 'running' || !context) return CLUSTER_DOT[c.state];
  if (context.state === 'checking') return 'busy';
  return context.state === 'ok' ? 'ok' : 'warn';
}

function clusterSummary(c: ClusterHealth, context: ContextHealth | undefined): string {
  if (c.state === 'running' && context && context.state === 'checking') return `${CLUSTER_WORDS[c.state]}, ${CONTEXT_WORDS.checking}`;
  return c.state === 'running' || c.state === 'degraded' ? `${CLUSTER_WORDS[c.state]}, ${nodesReady(c)} nodes ready` : CLUSTER_WORDS[c.state];
}

const clusterFixRunning = (problems: readonly Problem[], fixId: string): boolean => problems.some((p) => p.id === problemIds.fixRunning(fixId));

/** Start when it is stopped, Stop when it is up; neither while Docker cannot be asked. */
function powerItems(c: ClusterHealth, problems: readonly Problem[]): TrayMenuItem[] {
  const fix = (f: { id: string; label: string }, label: string): TrayMenuItem => {
    const running = clusterFixRunning(problems, f.id);
    return { kind: 'fix', label: running ? `${label} (running…)` : label, fixId: f.id, ...(running ? { enabled: false } : {}) };
  };
  const stop: TrayMenuItem = { kind: 'action', label: 'Stop', action: 'stop-cluster', cluster: c.name };
  switch (c.state) {
    case 'stopped':
      return [fix(FIXES.startCluster(c.name), 'Start')];
    case 'running':
    case 'starting':
      return [stop];
    case 'degraded':
    case 'unreachable':
      return [fix(FIXES.restartCluster(c.name), 'Restart'), stop];
    case 'unknown':
      return [{ kind: 'fix', label: 'Start', fixId: FIXES.startCluster(c.name).id, enabled: false }];
  }
}

function clusterMenu(c: ClusterHealth, s: HealthSnapshot, op: ClusterOperation | undefined): TrayMenuItem {
  const context = s.contexts.find((x) => x.name === c.context);
  const facts = [CLUSTER_WORDS[c.state], c.nodes.length > 0 ? `${nodesReady(c)} nodes ready` : '', c.kubernetesVersion ?? ''].filter((x) => x !== '');
  const lines: TrayMenuItem[] = [{ kind: 'status', label: fitLine(facts.join(' · '), 80), enabled: false, state: clusterDot(c, context) }];
  if (c.cause && c.state !== 'running') lines.push({ kind: 'status', label: fitLine(c.cause, 80), enabled: false });
  if (context) lines.push({ kind: 'status', label: `Context ${context.name}: ${CONTEXT_WORDS[context.state]}${context.current ? ' (current)' : ''}`, enabled: false });
  if (op) lines.unshift({ kind: 'status', label: fitLine(operationLine(op), 80), enabled: false, state: 'busy' });
  // One operation at a time on a cluster: the rest wait for it to end.
  const power = powerItems(c, s.problems).map((i) => (op ? { ...i, enabled: false } : i));
  const items: TrayMenuItem[] = [
    ...lines,
    SEPARATOR,
    ...power,
    { kind: 'action', label: 'Load image…', action: 'open-dashboard', route: DASHBOARD_LINKS.cluster(c.name, 'load-image'), ...(c.state === 'running' ? {} : { enabled: false }) },
    { kind: 'action', label: 'Open in dashboard', action: 'open-dashboard', route: DASHBOARD_LINKS.cluster(c.name) },
    SEPARATOR,
    { kind: 'action', label: 'Delete…', action: 'open-dashboard', route: DASHBOARD_LINKS.cluster(c.name, 'delete') },
  ];
  const summary = op ? `${OPERATION_VERBS[op.kind].doing.toLowerCase()}…` : clusterSummary(c, context);
  return { kind: 'submenu', label: fitLine(`${c.name}: ${summary}`, 80), state: op ? 'busy' : clusterDot(c, context), cluster: c.name, items };
}

/** "Creating cluster dev: Starting control-plane…". */
const operationLine = (op: ClusterOperation): string => {
  const step = currentStep(op);
  return `${operationTitle(op)}${step ? `: ${step}` : ''}…`;
};

/** Operations whose cluster has no line of its own yet (being created): a line each. */
function operationLines(s: HealthSnapshot, ops: readonly ClusterOperation[]): TrayMenuItem[] {
  const shown = new Set(s.clusters.map((c) => c.name));
  return ops
    .filter((o) => !shown.has(o.cluster))
    .map((o) => ({ kind: 'action', label: fitLine(operationLine(o), 80), action: 'open-dashboard', route: DASHBOARD_LINKS.cluster(o.cluster), state: 'busy' }));
}

function serverLine(s: ServerHealth): TrayMenuItem {
  const notRunning = serverNotRunning(s);
  const words: Record<ServerHealth['state'], string> = {
    healthy: s.port !== undefined ? `healthy on port ${s.port}` : 'healthy',
    slow: s.latencyMs !== undefined ? `slow (${Math.round(s.latencyMs)} ms)` : 'slow',
    hung: 'not answering',
    down: notRunning ? 'not running' : 'down',
    restarting: 'restarting…',
    'port-conflict': s.port !== undefined ? `port ${s.port} taken` : 'port taken',
  };
  return { kind: 'status', label: `Server: ${words[s.state]}`, enabled: false, state: notRunning ? 'warn' : SERVER_DOT[s.state] };
}

/** Clusters in trouble first, so a capped list still shows them; each one a submenu. */
function clusterLines(s: HealthSnapshot, max: number, ops: readonly ClusterOperation[]): TrayMenuItem[] {
  if (s.clusters.length === 0 && ops.length === 0) return [{ kind: 'status', label: 'No KinD clusters', enabled: false }];
  const ordered = [...s.clusters.filter((c) => c.state !== 'running'), ...s.clusters.filter((c) => c.state === 'running')];
  const shown = ordered.length > max ? ordered.slice(0, max - 1) : ordered;
  const lines = [...operationLines(s, ops), ...shown.map((c) => clusterMenu(c, s, ops.find((o) => o.cluster === c.name)))];
  const more = ordered.length - shown.length;
  if (more > 0) lines.push({ kind: 'action', label: `${more} more clusters…`, action: 'open-dashboard', route: DASHBOARD_LINKS.clusters });
  return lines;
}

/** The fixes that apply now: roots' first (problems come sorted), each once. */
function fixItems(problems: readonly Problem[], max: number): TrayMenuItem[] {
  const running = new Set(problems.filter(isInProgress).map((p) => p.id));
  const seen = new Set<string>();
  const items: TrayMenuItem[] = [];
  for (const p of problems) {
    if (!p.fix || seen.has(p.fix.id)) continue;
    seen.add(p.fix.id);
    const isRunning = running.has(problemIds.fixRunning(p.fix.id));
    items.push({
      kind: 'fix',
      label: isRunning ? `${p.fix.label} (running…)` : p.fix.label,
      fixId: p.fix.id,
      ...(isRunning ? { enabled: false } : {}),
    });
  }
  if (items.length <= max) return items;
  const shown = items.slice(0, max - 1);
  return [...shown, { kind: 'action', label: `${items.length - shown.length} more fixes…`, action: 'open-dashboard' }];
}

/** One line: the root problem first, or the all-good summary. */
export function trayTooltip(s: HealthSnapshot): string {
  const roots = s.problems.filter((p) => isRoot(p) && p.severity !== 'info');
  const busy = s.problems.find(isInProgress);
  const lead = roots[0];
  if (busy) return fitLine(`Kindtray: ${busy.title}${lead ? ` — ${headline(lead, s.problems)}` : ''}`);
  if (!lead) return fitLine(`Kindtray: all good — ${allGoodSummary(s)}`);
  // Keep "(+N more)" visible even when the headline is long.
  const more = roots.length > 1 ? ` (+${roots.length - 1} more)` : '';
  return `${fitLine(`Kindtray: ${headline(lead, s.problems)}`, TOOLTIP_MAX - more.length)}${more}`;
}

export function trayView(s: HealthSnapshot, opts: TrayOptions = {}): TrayView {
  const fixes = fixItems(s.problems, Math.max(1, opts.maxFixes ?? DEFAULT_MAX_FIXES));
  const ops = (opts.operations ?? []).filter((o) => o.state === 'running');
  const menu: TrayMenuItem[] = [
    dockerLine(s.docker),
    ...clusterLines(s, Math.max(1, opts.maxClusters ?? DEFAULT_MAX_CLUSTERS), ops),
    serverLine(s.server),
    SEPARATOR,
    ...(fixes.length > 0 ? [...fixes, SEPARATOR] : []),
    { kind: 'action', label: 'Launch task…', action: 'launch-task' },
    { kind: 'action', label: 'Create cluster…', action: 'open-dashboard', route: DASHBOARD_LINKS.createCluster },
    { kind: 'action', label: 'Open dashboard', action: 'open-dashboard' },
    { kind: 'checkbox', label: 'Start at login', action: 'toggle-start-at-login', checked: opts.startAtLogin ?? false },
    SEPARATOR,
    { kind: 'action', label: 'Quit', action: 'quit' },
  ];
  const first = ops[0];
  if (!first) return { icon: s.overall, tooltip: trayTooltip(s), menu };
  // An operation under way leads: it is what the user just asked for.
  return { icon: s.overall === 'error' ? 'error' : 'busy', tooltip: fitLine(`Kindtray: ${operationLine(first)}${ops.length > 1 ? ` (+${ops.length - 1} more)` : ''}`), menu };
}
