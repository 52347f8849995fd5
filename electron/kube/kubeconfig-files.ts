// Which kubeconfig files to read, by kubectl's rules for KUBECONFIG: its path
// list in order, each path resolved from the working directory, empty entries
// and repeats dropped (the first occurrence counts); ~/.kube/config when the
// variable is unset or names nothing. Every part of Kindtray reads this list.

import { homedir } from 'node:os';
import path from 'node:path';

/** Where the file list came from. */
export type KubeconfigSource = 'KUBECONFIG' | 'default';

function listed(env: NodeJS.ProcessEnv): string[] {
  return (env.KUBECONFIG ?? '').split(path.delimiter).filter((p) => p.trim() !== '');
}

export function kubeconfigSource(env: NodeJS.ProcessEnv = process.env): KubeconfigSource {
  return listed(env).length > 0 ? 'KUBECONFIG' : 'default';
}

/** The files kubectl would read, absolute, each once, in merge order. */
export function kubeconfigPaths(env: NodeJS.ProcessEnv = process.env, home: string = homedir(), cwd: string = process.cwd()): string[] {
  const list = listed(env);
  if (list.length === 0) return [path.join(home, '.kube', 'config')];
  return [...new Set(list.map((p) => path.resolve(cwd, p)))];
}
