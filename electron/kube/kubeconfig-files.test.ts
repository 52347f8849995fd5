// The kubeconfig file list, by kubectl's rules for KUBECONFIG.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { kubeconfigPaths, kubeconfigSource } from './kubeconfig-files.ts';

const list = (...items: string[]) => items.join(path.delimiter);

describe('which kubeconfig files', () => {
  it('unset or naming nothing: ~/.kube/config', () => {
    expect(kubeconfigPaths({}, '/home/me', '/work')).toEqual(['/home/me/.kube/config']);
    expect(kubeconfigPaths({ KUBECONFIG: '' }, '/home/me', '/work')).toEqual(['/home/me/.kube/config']);
    expect(kubeconfigPaths({ KUBECONFIG: list('', ' ', '') }, '/home/me', '/work')).toEqual(['/home/me/.kube/config']);
    expect(kubeconfigSource({})).toBe('default');
  });

  it('keeps the order, drops empty entries', () => {
    expect(kubeconfigPaths({ KUBECONFIG: list('/b', '', '/a') }, '/home/me', '/work')).toEqual(['/b', '/a']);
    expect(kubeconfigSource({ KUBECONFIG: '/a' })).toBe('KUBECONFIG');
  });

  it('resolves relative paths from the working directory', () => {
    expect(kubeconfigPaths({ KUBECONFIG: list('dev.yaml', '../x/prod.yaml') }, '/home/me', '/work/app')).toEqual(['/work/app/dev.yaml', '/work/x/prod.yaml']);
  });

  it('drops repeats after resolving, the first occurrence counting', () => {
    expect(kubeconfigPaths({ KUBECONFIG: list('/a', 'b', '/a', '/work/b', './b') }, '/home/me', '/work')).toEqual(['/a', '/work/b']);
  });
});
