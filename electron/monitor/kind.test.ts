import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeadlineError } from '../../shared/deadline.ts';
import { classifyDockerFailure, parseKindContainers } from './docker.ts';
import { kindClusters } from './kind.ts';

const container = (name: string, cluster: string, role: string, state: string, ports: object[] = []) => ({
  Id: `id-${name}`,
  Names: [`/${name}`],
  Labels: { 'io.x-k8s.kind.cluster': cluster, 'io.x-k8s.kind.role': role },
  State: state,
  Status: state === 'running' ? 'Up 2 minutes' : 'Exited (0) 1 second ago',
  Ports: ports,
});

describe('KinD clusters from Docker containers', () => {
  const raw = [
    container('dev-control-plane', 'dev', 'control-plane', 'running', [
      { IP: '127.0.0.1', PrivatePort: 6443, PublicPort: 41234, Type: 'tcp' },
      { IP: '0.0.0.0', PrivatePort: 30000, PublicPort: 8080, Type: 'tcp' },
      { IP: '::', PrivatePort: 30000, PublicPort: 8080, Type: 'tcp' },
    ]),
    container('dev-worker', 'dev', 'worker', 'running'),
    container('old-control-plane', 'old', 'control-plane', 'exited'),
    { Id: 'x', Names: ['/postgres'], Labels: {}, State: 'running', Status: '', Ports: [] },
  ];

  it('groups node containers by cluster label and ignores other containers', () => {
    const clusters = kindClusters(parseKindContainers(raw));
    expect(clusters.map((c) => c.name)).toEqual(['dev', 'old']);
    expect(clusters[0]?.nodes.map((n) => `${n.name}/${n.role}/${n.state}`)).toEqual(['dev-control-plane/control-plane/running', 'dev-worker/worker/running']);
  });

  it('reads the API endpoint from the published 6443 and extra port mappings once per address family', () => {
    const [dev] = kindClusters(parseKindContainers(raw));
    expect(dev).toMatchObject({ context: 'kind-dev', apiHostPort: 41234, apiEndpoint: 'https://127.0.0.1:41234', allRunning: true });
    expect(dev?.portMappings).toEqual([{ containerPort: 30000, hostPort: 8080, hostIp: '127.0.0.1', protocol: 'tcp' }]);
  });

  it('a stopped control plane has no API endpoint and is not running', () => {
    const old = kindClusters(parseKindContainers(raw))[1];
    expect(old).toMatchObject({ controlPlaneRunning: false, allRunning: false });
    expect(old?.apiEndpoint).toBeUndefined();
  });

  it('refuses Docker JSON of the wrong shape instead of guessing', () => {
    expect(() => parseKindContainers([{ Names: 'x' }])).toThrow();
  });
});

describe('Docker failures in words a person can act on', () => {
  const endpoint = { url: 'unix:///var/run/docker.sock', source: 'default socket', socketPath: '/var/run/docker.sock' };
  it('no answer by the deadline → unresponsive', () => {
    expect(classifyDockerFailure(new DeadlineError('Docker', 1500), endpoint)).toMatchObject({ state: 'unresponsive', cause: expect.stringContaining('1.5 s') });
  });
  it('EACCES → no-permission naming the socket', () => {
    const h = classifyDockerFailure(Object.assign(new Error('x'), { code: 'EACCES' }), endpoint);
    expect(h.state).toBe('no-permission');
    expect(h.cause).toContain('/var/run/docker.sock');
  });
  it('missing socket → stopped when Docker is installed, not-installed when nothing is', () => {
    const enoent = Object.assign(new Error('x'), { code: 'ENOENT' });
    expect(classifyDockerFailure(enoent, endpoint, { PATH: '/nonexistent' }).state).toBe('not-installed');
    const bin = mkdtempSync(join(tmpdir(), 'kt-bin-'));
    writeFileSync(join(bin, 'docker'), '#!/bin/sh\n', { mode: 0o755 });
    expect(classifyDockerFailure(enoent, endpoint, { PATH: bin })).toMatchObject({ state: 'stopped', cause: 'no Docker socket at /var/run/docker.sock' });
  });
  it('refused → stopped', () => {
    expect(classifyDockerFailure(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), endpoint).state).toBe('stopped');
  });
});
