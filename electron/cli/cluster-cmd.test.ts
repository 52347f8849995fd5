// The cluster commands' arguments, before any server is asked: what a create
// request carries, and usage errors (exit 2) that name the flag.

import { describe, expect, it } from 'vitest';
import { createRequestFrom, parseRange } from './cluster-cmd.ts';
import { main } from './main.ts';

describe('kindtray cluster create: the request', () => {
  it('flags become the request; the config path is made absolute from the working folder', () => {
    expect(createRequestFrom('dev', { workers: '2', image: 'kindest/node:v1.30.0', 'node-ports': '30100-30199', 'ingress-http': '8080', config: 'kind.yaml', 'no-switch': true }, '/home/me')).toEqual({
      name: 'dev',
      workers: 2,
      image: 'kindest/node:v1.30.0',
      nodePorts: { from: 30100, to: 30199 },
      ingress: { http: 8080 },
      config: { path: '/home/me/kind.yaml' },
      makeCurrent: false,
    });
    expect(createRequestFrom('dev', {})).toEqual({ name: 'dev' });
  });

  it('bad values are usage errors naming the flag', () => {
    expect(() => parseRange('30000')).toThrow(/--node-ports/);
    expect(() => createRequestFrom('dev', { workers: 'two' })).toThrow(/--workers/);
    expect(() => createRequestFrom(undefined, {})).toThrow(/name the cluster/);
  });

  it('exit 2 for usage errors, without asking a server', async () => {
    const err: string[] = [];
    const io = { out: () => undefined, err: (t: string) => void err.push(t) };
    expect(await main(['cluster', 'explode', 'dev'], io)).toBe(2);
    expect(await main(['cluster', 'delete'], io)).toBe(2);
    expect(await main(['image', 'load', 'app:1'], io)).toBe(2);
    expect(err.join('\n')).toMatch(/--cluster NAME/);
  });
});
