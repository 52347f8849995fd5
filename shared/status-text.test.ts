import { describe, expect, it } from 'vitest';
import { withProblems } from './problems.ts';
import { CHECKED_AT, dockerStoppedInput, healthyInput, kindCluster, kubeContext } from './snapshot-fixtures.ts';
import { formatAge, formatPortMapping, renderStatus, statusExitCode } from './status-text.ts';

const now = new Date(Date.parse(CHECKED_AT) + 3_000);
const ESC = '\u001b[';

describe('kindtray status', () => {
  it('all healthy → verdict first, then one line per part; exit 0', () => {
    const s = withProblems(healthyInput());
    expect(renderStatus(s, { color: false, now })).toBe(
      [
        '✓ All good: Docker 27.3.1, 2 clusters running (checked 3 s ago)',
        '',
        'Docker    ✓ running  27.3.1  unix:///var/run/docker.sock (default socket)',
        'Clusters  ✓ dev   running  1/1 nodes ready  https://127.0.0.1:41001  ports 8080→30080',
        '          ✓ test  running  2/2 nodes ready  https://127.0.0.1:41002',
        'Contexts  ✓ * kind-dev   ok  https://127.0.0.1:41001',
        '          ✓   kind-test  ok  https://127.0.0.1:41002',
        'Server    ✓ healthy  port 46590, pid 4242, 3 ms',
        '',
      ].join('\n'),
    );
    expect(statusExitCode(s)).toBe(0);
  });

  it('Docker stopped → leads with the root and its count, the fix as a command, followers under it; exit 1', () => {
    const s = withProblems(dockerStoppedInput());
    const text = renderStatus(s, { color: false, now });
    const lines = text.split('\n');
    expect(lines[0]).toBe('✗ Docker is not running: 2 clusters and 2 contexts affected (checked 3 s ago)');
    expect(lines).toContain('Docker    ✗ not running  unix:///var/run/docker.sock (default socket)');
    expect(text).toContain(
      [
        'Problems',
        '✗ Docker is not running',
        '    2 clusters and 2 contexts affected. No Docker socket at /var/run/docker.sock.',
        '    Start Docker: kindtray fix start-docker',
        '    · Cluster dev: state unknown',
      ].join('\n'),
    );
    // Followers are listed under their root, never as roots of their own.
    const problemLines = lines.slice(lines.indexOf('Problems') + 1);
    expect(problemLines.filter((l) => /^\S/.test(l))).toEqual(['✗ Docker is not running']);
    expect(statusExitCode(s)).toBe(1);
  });

  it('a stale kind port → warn verdict, repair command; exit 0 (warn is not "not ok")', () => {
    const s = healthyInput();
    const snap = withProblems({
      ...s,
      contexts: [s.contexts[0]!, kubeContext('kind-test', { state: 'stale-endpoint', server: 'https://127.0.0.1:39999', expectedServer: 'https://127.0.0.1:41002' })],
    });
    const text = renderStatus(snap, { color: false, now });
    expect(text.split('\n')[0]).toBe('! Context kind-test points at an old port (checked 3 s ago)');
    expect(text).toContain('          !   kind-test  stale endpoint  https://127.0.0.1:39999');
    expect(text).toContain('    Repair context kind-test: kindtray fix repair-context:kind-test');
    expect(statusExitCode(snap)).toBe(0);
  });

  it('a fix running while Docker is down → busy verdict, yet exit 1: the thing asked about is still not ok', () => {
    const s = withProblems(dockerStoppedInput(), { busy: ['start-docker'] });
    expect(renderStatus(s, { color: false }).split('\n')[0]).toBe(
      '… Start Docker: running… — Docker is not running: 2 clusters and 2 contexts affected',
    );
    expect(statusExitCode(s)).toBe(1);
  });

  it('no server running (status before any server) → said plainly, not an error', () => {
    const s = withProblems({ ...healthyInput(), server: { state: 'down' } });
    const text = renderStatus(s, { color: false });
    expect(text.split('\n')[0]).toBe('✓ All good: Docker 27.3.1, 2 clusters running');
    expect(text).toContain('Server    · not running');
    expect(text).toContain('    Start server: kindtray server restart');
    expect(statusExitCode(s)).toBe(0);
  });

  it('an old snapshot says it may be stale; snapshotAgeMs wins over now', () => {
    const s = withProblems(healthyInput());
    expect(renderStatus(s, { color: false, now, snapshotAgeMs: 125_000 }).split('\n')[0]).toBe(
      '✓ All good: Docker 27.3.1, 2 clusters running (checked 2 min ago, may be stale)',
    );
  });

  it('colours only when asked, and aligns columns by visible width', () => {
    const s = withProblems(dockerStoppedInput());
    const plain = renderStatus(s, { color: false, now });
    const colored = renderStatus(s, { color: true, now });
    expect(plain).not.toContain(ESC);
    expect(colored).toContain(`${ESC}31m✗${ESC}0m`);
    expect(colored.replace(/\u001b\[\d+m/g, '')).toBe(plain);
  });

  it('a stopped cluster shows its nodes; ports beyond four are summarised', () => {
    const ports = [1, 2, 3, 4, 5, 6].map((i) => ({ containerPort: 30000 + i, hostPort: 8000 + i, hostIp: '0.0.0.0', protocol: 'tcp' as const }));
    const s = healthyInput();
    const text = renderStatus(
      withProblems({
        ...s,
        clusters: [
          kindCluster('dev', { state: 'stopped', apiEndpoint: undefined, nodes: [{ name: 'dev-control-plane', role: 'control-plane', state: 'exited' }] }),
          kindCluster('web', { portMappings: ports }, 41003),
        ],
      }),
      { color: false },
    );
    expect(text).toContain('Clusters  ✗ dev  stopped  0/1 nodes ready');
    expect(text).toContain('ports 8001→30001, 8002→30002, 8003→30003, 8004→30004, +2 more');
  });
});

describe('formatting helpers', () => {
  it('ages and port mappings read naturally', () => {
    expect(formatAge(300)).toBe('just now');
    expect(formatAge(42_000)).toBe('42 s ago');
    expect(formatAge(7_200_000)).toBe('2 h ago');
    expect(formatPortMapping({ containerPort: 30080, hostPort: 8080, hostIp: '127.0.0.1', protocol: 'tcp' })).toBe('8080→30080');
    expect(formatPortMapping({ containerPort: 53, hostPort: 5353, hostIp: '192.168.1.5', protocol: 'udp' })).toBe('192.168.1.5:5353→53/udp');
  });
});
