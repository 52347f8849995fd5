// The values a launch gives for the envs and secrets the task leaves null,
// typed on the Launch page: which are needed, and the check as it stands once
// they are given (a filled name's "required at launch" error goes). Secrets
// live in the page's memory only: never in the saved draft.

import type { LaunchRequest } from '../../../shared/api.ts';
import type { TaskCheck } from './check.ts';

export interface GivenValues {
  envs: Record<string, string>;
  secrets: Record<string, string>;
}

export const NO_VALUES: GivenValues = { envs: {}, secrets: {} };

/** `envs.NAME` / `secrets.NAME`, as the check's issues name a field (names are checked to be simple ones). */
const fieldOf = (kind: 'envs' | 'secrets', name: string): string => `${kind}.${name}`;

/** The required names that have a non-empty value now. */
function filled(check: TaskCheck, given: GivenValues): Set<string> {
  const r = check.requiredAtLaunch;
  const out = new Set<string>();
  for (const n of r?.envs ?? []) if ((given.envs[n] ?? '') !== '') out.add(fieldOf('envs', n));
  for (const n of r?.secrets ?? []) if ((given.secrets[n] ?? '') !== '') out.add(fieldOf('secrets', n));
  return out;
}

/** The check with the errors the given values answer taken out. */
export function withGivenValues(check: TaskCheck, given: GivenValues): TaskCheck {
  const done = filled(check, given);
  if (done.size === 0) return check;
  return { ...check, errors: check.errors.filter((e) => !done.has(e.path)) };
}

/** What the launch sends: only the names the task needs, only with a value. */
export function launchBody(check: TaskCheck, given: GivenValues): Pick<LaunchRequest, 'envs' | 'secrets'> | undefined {
  const pick = (names: readonly string[], from: Record<string, string>) => Object.fromEntries(names.filter((n) => (from[n] ?? '') !== '').map((n) => [n, from[n] ?? '']));
  const envs = pick(check.requiredAtLaunch?.envs ?? [], given.envs);
  const secrets = pick(check.requiredAtLaunch?.secrets ?? [], given.secrets);
  return Object.keys(envs).length + Object.keys(secrets).length > 0 ? { envs, secrets } : undefined;
}
