import { describe, expect, it } from 'vitest';
import type { PreflightCheck } from '../../../shared/contracts/clusters.ts';
import { checksFor, createGate, defaultForm, freeName, toRequest, typedRange, withFixValue } from './create-form.ts';

describe('the create-cluster form', () => {
  it('defaults: kind’s own name when free, else the next free kind-N; nothing else asked (the server picks the free NodePorts)', () => {
    expect(freeName([])).toBe('kind');
    expect(freeName(['kind', 'kind-2', 'dev'])).toBe('kind-3');
    const { request, issues } = toRequest(defaultForm(['dev']));
    expect(issues).toEqual([]);
    expect(request).toEqual({ name: 'kind', makeCurrent: true, workers: 0 });
  });

  it('every field becomes its request field', () => {
    const { request, issues } = toRequest({
      ...defaultForm(),
      name: ' multi ',
      workers: '2',
      image: 'kindest/node:v1.31.0',
      nodePortsFrom: '30100',
      nodePortsTo: '30199',
      ingressHttp: '8080',
      ingressHttps: '8443',
      makeCurrent: false,
    });
    expect(issues).toEqual([]);
    expect(request).toEqual({ name: 'multi', makeCurrent: false, workers: 2, image: 'kindest/node:v1.31.0', nodePorts: { from: 30100, to: 30199 }, ingress: { http: 8080, https: 8443 } });
  });

  it('a host port start alone means 100 ports from there (NodePorts 30000-30099 on them)', () => {
    expect(typedRange({ nodePortsFrom: '30200', nodePortsTo: '' })).toEqual({ from: 30200, to: 30299 });
    expect(typedRange({ nodePortsFrom: '65500', nodePortsTo: '' })).toEqual({ from: 65500, to: 65535 });
  });

  it('what is wrong is said at its field, before any server is asked', () => {
    const { issues } = toRequest({ ...defaultForm(), name: 'Dev_1', workers: '1.5', image: 'kindest/node v1', nodePortsFrom: '80', ingressHttp: '70000', ingressHttps: '' });
    expect(issues.map((i) => i.field)).toEqual(['name', 'workers', 'image', 'nodePorts', 'ingress.http']);
    expect(issues[0]!.message).toMatch(/lower-case/);
    expect(issues[3]!.message).toBe('host ports from 1024 to 65535 (lower ones need privileges)');
    expect(toRequest({ ...defaultForm(), ingressHttp: '8080', ingressHttps: '8080' }).issues).toEqual([{ field: 'ingress.https', message: 'HTTP and HTTPS need two different host ports' }]);
    expect(toRequest({ ...defaultForm(), name: '' }).issues[0]).toEqual({ field: 'name', message: 'a cluster needs a name' });
  });

  it('with a config file, the file says everything but the name; an empty one is an issue', () => {
    const text = 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n';
    expect(toRequest({ ...defaultForm(), mode: 'config', workers: 'x', configText: text })).toEqual({ request: { name: 'kind', makeCurrent: true, config: { text } }, issues: [] });
    expect(toRequest({ ...defaultForm(), mode: 'config' }).issues.map((i) => i.field)).toEqual(['config']);
  });

  it('Create waits for the check, and an error check keeps it disabled with its words', () => {
    const taken: PreflightCheck = {
      id: 'node-ports',
      level: 'error',
      field: 'nodePorts',
      message: 'host ports 30000-30099 are taken (cluster dev publishes them)',
      fix: { label: 'Use 30100-30199', value: { from: 30100, to: 30199 } },
    };
    const ok: PreflightCheck = { id: 'docker', level: 'ok', message: 'Docker 27.3.1 is running' };
    expect(createGate([], undefined, false)).toEqual({ enabled: false, reason: 'Checking…' });
    expect(createGate([], [ok, taken], false)).toEqual({ enabled: false, reason: taken.message });
    expect(createGate([], [ok], false)).toEqual({ enabled: true });
    expect(createGate([{ field: 'name', message: 'a cluster needs a name' }], [ok], false).enabled).toBe(false);
    expect(checksFor([ok, taken], 'nodePorts')).toEqual([taken]);
    const fixed = withFixValue(defaultForm(), 'nodePorts', taken.fix!.value);
    expect([fixed.nodePortsFrom, fixed.nodePortsTo]).toEqual(['30100', '30199']);
    expect(withFixValue(defaultForm(), 'name', 'kind-2').name).toBe('kind-2');
  });
});

describe('what the create will publish, in lines', () => {
  it('runs of ports in order are one line each; NodePorts on other host ports say both', async () => {
    const { portLines } = await import('../pages/ClustersCheck.tsx');
    const run = (host: number, node: number, n: number) => Array.from({ length: n }, (_, i) => ({ hostPort: host + i, containerPort: node + i, protocol: 'TCP' as const }));
    expect(portLines({ portMappings: run(30000, 30000, 100) })).toEqual(['100 host ports 30000-30099 → the same NodePorts']);
    expect(portLines({ portMappings: [...run(30100, 30000, 100), { hostPort: 8080, containerPort: 80, protocol: 'TCP' }, { hostPort: 8443, containerPort: 443, protocol: 'TCP' }] })).toEqual([
      'host 8080 → 80',
      'host 8443 → 443',
      '100 host ports 30100-30199 → NodePorts 30000-30099',
    ]);
  });
});
