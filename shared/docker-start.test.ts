import { describe, expect, it } from 'vitest';
import { DOCKER_RESTART_COMMANDS, dockerRestartPlan } from './docker-start.ts';

describe('Restart Docker: the platform restart, picked by where the socket was found', () => {
  const plan = (platform: string, source: string | undefined, systemd = false) => dockerRestartPlan(platform, source, 'unix:///x.sock', systemd);
  it.each([
    ['darwin', 'Colima socket', DOCKER_RESTART_COMMANDS.colima],
    ['darwin', 'Rancher Desktop socket', 'rdctl shutdown && rdctl start'],
    ['darwin', 'Podman socket', 'podman machine stop && podman machine start'],
    ['darwin', 'Docker Desktop socket', 'docker desktop restart'],
    ['win32', 'default pipe', 'docker desktop restart'],
    ['linux', 'Docker Desktop socket', 'systemctl --user restart docker-desktop'],
    ['linux', 'Podman socket', 'systemctl --user restart podman.socket podman.service'],
  ])('%s, %s → %s', (platform, source, command) => {
    expect(plan(platform, source)).toMatchObject({ kind: 'command', command });
  });

  it('Linux system engine: systemctl when systemd manages it, else plain advice naming the socket', () => {
    expect(dockerRestartPlan('linux', 'default socket', 'unix:///var/run/docker.sock', true)).toMatchObject({ kind: 'command', command: 'systemctl restart docker' });
    // DOCKER_HOST names another engine than the one docker.service runs: never restart the wrong one.
    expect(plan('linux', 'DOCKER_HOST', true).kind).toBe('advice');
    const advice = plan('linux', 'DOCKER_HOST', false);
    expect(advice.kind).toBe('advice');
    expect(advice.kind === 'advice' && advice.message).toMatch(/unix:\/\/\/x\.sock.*systemd does not manage it/);
  });
});
