// What `kindtray status` prints for a person: the verdict first, led by the
// root cause; then Docker, clusters, contexts and the server, one line each;
// then the problems with their fixes as commands to type. Pure: the CLI passes
// whether to colour and how old the snapshot is.

import { formatMs } from './deadline.ts';
import { FIXES } from './fixes.ts';
import { hasRootError, headline, isInProgress, isRoot, serverNotRunning } from './problems.ts';
import type { ClusterHealth, ContextHealth, DockerHealth, HealthSnapshot, PortMapping, Problem, ServerHealth, Severity } from './snapshot.ts';
import { CLUSTER_WORDS, CONTEXT_WORDS, DOCKER_WORDS, allGoodSummary, nodesReady } from './view-words.ts';

export interface StatusTextOptions {
  /** ANSI colours (the CLI sets this for a TTY without NO_COLOR). */
  color: boolean;
  /** Used with the snapshot's checkedAt to say how old it is. */
  now?: Date;
  /** How old the snapshot is; wins over `now`. */
  snapshotAgeMs?: number;
}

/** Older than this, the verdict line says the snapshot may be stale. */
export const STALE_SNAPSHOT_MS = 60_000;
const MAX_PORTS_SHOWN = 4;

type Mark = 'ok' | 'warn' | 'error' | 'busy' | 'info' | 'unknown';
const SYMBOL: Record<Mark, string> = { ok: '✓', warn: '!', error: '✗', busy: '…', info: '·', unknown: '?' };
const ANSI = { red: 31, green: 32, yellow: 33, cyan: 36, bold: 1, dim: 2 } as const;
type Style = keyof typeof ANSI;
const MARK_STYLE: Record<Mark, Style> = { ok: 'green', warn: 'yellow', error: 'red', busy: 'cyan', info: 'dim', unknown: 'yellow' };
const SEVERITY_MARK: Record<Severity, Mark> = { error: 'error', warn: 'warn', info: 'info' };

/** 1 when the thing asked about is not ok: a root problem is an error (even while a fix runs). */
export function statusExitCode(s: Pick<HealthSnapshot, 'problems'>): 0 | 1 {
  return hasRootError(s.problems) ? 1 : 0;
}

export function formatAge(ms: number): string {
  if (ms < 1000) return 'just now';
  if (ms < 60_000) return `${Math.floor(ms / 1000)} s ago`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ago`;
  return `${Math.floor(ms / 3_600_000)} h ago`;
}

export function formatPortMapping(m: PortMapping): string {
  const host = m.hostIp === '127.0.0.1' || m.hostIp === '0.0.0.0' || m.hostIp === '' ? '' : `${m.hostIp}:`;
  return `${host}${m.hostPort}→${m.containerPort}${m.protocol === 'tcp' ? '' : `/${m.protocol}`}`;
}

const DOCKER_MARK: Record<DockerHealth['state'], Mark> = {
  running: 'ok', starting: 'busy', stopped: 'error', 'no-permission': 'error', unresponsive: 'error', 'not-installed': 'error',
};
const CLUSTER_MARK: Record<ClusterHealth['state'], Mark> = {
  running: 'ok', starting: 'busy', degraded: 'warn', stopped: 'error', unreachable: 'error', unknown: 'unknown',
};
const CONTEXT_MARK: Record<ContextHealth['state'], Mark> = {
  ok: 'ok', checking: 'busy', 'stale-endpoint': 'warn', dangling: 'warn', unreachable: 'error', 'auth-failed': 'error', unknown: 'unknown',
};
const SERVER_MARK: Record<ServerHealth['state'], Mark> = {
  healthy: 'ok', slow: 'warn', hung: 'error', down: 'error', restarting: 'busy', 'port-conflict': 'warn',
};

interface Cell {
  text: string;
  style?: Style;
}
type Row = Cell[];

export function renderStatus(s: HealthSnapshot, opts: StatusTextOptions): string {
  const paint = (style: Style | undefined, text: string): string =>
    opts.color && style && text !== '' ? `\u001b[${ANSI[style]}m${text}\u001b[0m` : text;
  const mark = (m: Mark): Cell => ({ text: SYMBOL[m], style: MARK_STYLE[m] });

  /** Pads every column but the last to its widest cell (measured before colouring). */
  const table = (label: string, rows: Row[]): string[] => {
    const widths: number[] = [];
    for (const row of rows) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.text.length)));
    return rows.map((row, r) => {
      const cells = row
        .map((c, i) => {
          if ((widths[i] ?? 0) === 0) return ''; // a column empty in every row takes no room
          const cell = i === row.length - 1 ? paint(c.style, c.text) : paint(c.style, c.text) + ' '.repeat((widths[i] ?? 0) - c.text.length);
          // The mark sits one space from its subject; other columns two apart.
          return i === 0 ? cell : i === 1 ? ` ${cell}` : `  ${cell}`;
        })
        .join('')
        .trimEnd();
      return `${(r === 0 ? label : '').padEnd(10)}${cells}`;
    });
  };

  const out: string[] = [];

  // Verdict, led by the root cause.
  const ageMs = opts.snapshotAgeMs ?? (opts.now ? opts.now.getTime() - Date.parse(s.checkedAt) : undefined);
  const age =
    ageMs === undefined || Number.isNaN(ageMs)
      ? ''
      : ` (checked ${formatAge(Math.max(0, ageMs))}${ageMs > STALE_SNAPSHOT_MS ? ', may be stale' : ''})`;
  out.push(verdict(s, paint) + paint('dim', age), '');

  // Docker.
  const d = s.docker;
  const where = d.endpointSource ? `${d.endpoint} (${d.endpointSource})` : d.endpoint;
  out.push(...table('Docker', [[mark(DOCKER_MARK[d.state]), { text: DOCKER_WORDS[d.state] }, { text: d.version ?? '' }, { text: where, style: 'dim' }]]));

  // Clusters.
  if (s.clusters.length === 0) {
    out.push(...table('Clusters', [[{ text: 'none', style: 'dim' }]]));
  } else {
    out.push(
      ...table(
        'Clusters',
        s.clusters.map((c) => {
          const ports = c.portMappings.slice(0, MAX_PORTS_SHOWN).map(formatPortMapping);
          if (c.portMappings.length > MAX_PORTS_SHOWN) ports.push(`+${c.portMappings.length - MAX_PORTS_SHOWN} more`);
          return [
            mark(CLUSTER_MARK[c.state]),
            { text: c.name, style: 'bold' },
            { text: CLUSTER_WORDS[c.state] },
            { text: c.nodes.length > 0 ? `${nodesReady(c)} nodes ready` : '' },
            { text: c.apiEndpoint ?? '', style: 'dim' },
            { text: ports.length > 0 ? `ports ${ports.join(', ')}` : '' },
          ];
        }),
      ),
    );
  }

  // Contexts, current marked as kubectl does.
  if (s.contexts.length > 0) {
    out.push(
      ...table(
        'Contexts',
        s.contexts.map((c) => [
          mark(CONTEXT_MARK[c.state]),
          { text: `${c.current ? '*' : ' '} ${c.name}`, ...(c.current ? { style: 'bold' as const } : {}) },
          { text: CONTEXT_WORDS[c.state] },
          { text: c.server ?? '', style: 'dim' },
        ]),
      ),
    );
  }

  // Server.
  const sv = s.server;
  const notRunning = serverNotRunning(sv);
  const facts = [
    sv.port !== undefined && `port ${sv.port}`,
    sv.pid !== undefined && `pid ${sv.pid}`,
    sv.latencyMs !== undefined && formatMs(sv.latencyMs),
    sv.restarts !== undefined && sv.restarts > 0 && `${sv.restarts} ${sv.restarts === 1 ? 'restart' : 'restarts'}`,
  ].filter((f): f is string => typeof f === 'string');
  out.push(
    ...table('Server', [
      [
        mark(notRunning ? 'info' : SERVER_MARK[sv.state]),
        { text: notRunning ? 'not running' : sv.state },
        { text: facts.join(', '), style: 'dim' },
      ],
    ]),
  );

  // Problems: each root with its fix as a command, its followers under it.
  const roots = s.problems.filter(isRoot);
  if (roots.length > 0) {
    out.push('', paint('bold', 'Problems'));
    for (const p of roots) {
      const m = isInProgress(p) ? mark('busy') : mark(SEVERITY_MARK[p.severity]);
      out.push(`${paint(m.style, m.text)} ${paint(p.severity === 'info' ? undefined : 'bold', p.title)}`);
      if (p.detail) out.push(`    ${p.detail}`);
      if (p.fix) out.push(`    ${p.fix.label}: ${paint('cyan', fixCommand(p.fix.id))}`);
      for (const f of s.problems.filter((q) => q.causedBy === p.id)) out.push(paint('dim', `    · ${f.title}`));
    }
  }
  return `${out.join('\n')}\n`;
}

function verdict(s: HealthSnapshot, paint: (style: Style | undefined, text: string) => string): string {
  const roots = s.problems.filter((p) => isRoot(p) && p.severity !== 'info');
  const busy = s.problems.find(isInProgress);
  const lead: Problem | undefined = roots[0];
  const more = roots.length > 1 ? ` (+${roots.length - 1} more)` : '';
  if (busy) {
    return `${paint('cyan', SYMBOL.busy)} ${paint('bold', busy.title)}${lead ? ` — ${headline(lead, s.problems)}` : ''}`;
  }
  if (lead) {
    const m: Mark = lead.severity === 'error' ? 'error' : 'warn';
    return `${paint(MARK_STYLE[m], SYMBOL[m])} ${paint('bold', headline(lead, s.problems))}${more}`;
  }
  return `${paint('green', SYMBOL.ok)} ${paint('bold', `All good: ${allGoodSummary(s)}`)}`;
}

/** The command a person types for a fix: the server's own lifecycle has its own command, since `fix` needs a server. */
export function fixCommand(fixId: string): string {
  return fixId === FIXES.restartServer.id ? 'kindtray server restart' : `kindtray fix ${fixId}`;
}
