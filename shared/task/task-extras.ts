// The task fields beyond one command in one Pod, parsed and validated so that
// a launch only has to run them: file_mounts, service (SkyServe), config
// (kubernetes.pod_config), secrets, and plain values (config blocks) as data.

import { checkEnvName } from './fields.ts';
import { childPath, quote } from './issues.ts';
import { skyPilotEnvText } from './launch-values.ts';
import type { Reporter } from './resources-schema.ts';
import type { SourceEntry, SourceValue } from './source.ts';

/** JSON-like data, as a config block or a storage spec holds it. */
export type Plain = string | number | boolean | null | Plain[] | { [key: string]: Plain };

/** A value as plain data. The tree is bounded by source.ts, so this is too. */
export function toPlain(v: SourceValue): Plain {
  if (v.kind === 'scalar') return v.value;
  if (v.kind === 'seq') return v.items.map(toPlain);
  return Object.fromEntries(v.entries.map((e) => [e.key, toPlain(e.value)]));
}

/** The keys SkyPilot's schemas allow in a service block and in a storage spec: others are refused, as SkyPilot refuses them. */
const SERVICE_KEYS = ['readiness_probe', 'load_balancer', 'pool', 'replica_policy', 'ports', 'replicas', 'workers', 'load_balancing_policy', 'tls'];
const STORAGE_KEYS = ['name', 'source', 'store', 'persistent', 'mode', 'mount_options', 'type', 'config', '_is_sky_managed', '_bucket_sub_path', '_force_delete'];

function unknownKeys(r: Reporter, v: SourceValue, path: string, allowed: readonly string[]): void {
  if (v.kind !== 'map') return;
  for (const e of v.entries) {
    if (!allowed.includes(e.key)) r.error(childPath(path, e.key), `${quote(e.key)} is not a field of ${path} in SkyPilot: it has ${allowed.filter((k) => !k.startsWith('_')).join(', ')}`, e.keyAt);
  }
}

/** Cloud storage URLs, which SkyPilot mounts from buckets. */
const BUCKET_URL = /^(s3|gs|r2|cos|oci|az|https?|nebius|hf):\/\//i;

export interface FileMount {
  /** Where in the Pod. */
  target: string;
  /** A local path (copied), a bucket URL, or a storage spec (a mapping) as written. */
  source: string | { [key: string]: Plain };
}

export function checkFileMounts(r: Reporter, v: SourceValue): FileMount[] {
  if (v.kind !== 'map') {
    r.error('file_mounts', 'file_mounts is a mapping of /path/in/pod: local/path (or a storage spec), as in SkyPilot');
    return [];
  }
  const out: FileMount[] = [];
  for (const e of v.entries) {
    const path = childPath('file_mounts', e.key);
    if (e.keyAt) r.positions[path] = e.keyAt;
    const val = e.value;
    if (val.kind === 'scalar' && typeof val.value === 'string' && val.value.trim() !== '') {
      out.push({ target: e.key, source: val.value });
      if (BUCKET_URL.test(val.value.trim())) r.warn(path, `${quote(val.value)} is a bucket: Kindtray has no cloud credentials in the Pod and mounts no buckets, so a launch refuses it`);
    } else if (val.kind === 'map') {
      unknownKeys(r, val, path, STORAGE_KEYS);
      const plain = toPlain(val);
      out.push({ target: e.key, source: plain as { [key: string]: Plain } });
      r.warn(path, 'a storage spec (a bucket SkyPilot creates or mounts): Kindtray mounts no buckets, so a launch refuses it');
    } else {
      r.error(path, `file_mounts.${e.key} must be a local path, a bucket URL or a storage mapping`);
    }
  }
  // Local sources are copied into the Pods at launch (electron/server/file-sync-*.ts).
  return out;
}

/** SkyServe's readiness probe, as its service spec reads it: what decides when a task's endpoint is shown ready. */
export interface ReadinessProbe {
  /** The HTTP path probed: ready on a 2xx/3xx answer (SkyServe: 200). */
  path: string;
  /** SkyServe POSTs this as JSON; a Kubernetes probe can only GET (the warning says so). */
  postData?: Plain;
  /** SkyServe's grace before it replaces a replica that never became ready; a launch replaces nothing. */
  initialDelaySeconds?: number;
  /** How long one probe may take (SkyServe's default 15 s). */
  timeoutSeconds?: number;
  headers?: Record<string, string>;
}

export interface ServiceSpec {
  /** When given: it decides when the endpoint is ready. */
  readiness?: ReadinessProbe;
  /** The port SkyServe serves on, when given (else the task's first port). */
  port?: number;
}

const PROBE_KEYS = ['path', 'initial_delay_seconds', 'timeout_seconds', 'post_data', 'headers'];

/** readiness_probe: a path, or {path, initial_delay_seconds, timeout_seconds, post_data, headers}, as SkyPilot's service schema has it. */
function checkReadinessProbe(r: Reporter, v: SourceValue, path: string): ReadinessProbe | undefined {
  if (v.kind === 'scalar' && typeof v.value === 'string') return { path: v.value };
  if (v.kind !== 'map') {
    r.error(path, 'readiness_probe is a path, or a mapping with a path, e.g. readiness_probe: {path: /health}');
    return undefined;
  }
  unknownKeys(r, v, path, PROBE_KEYS);
  const at = (key: string) => v.entries.find((e) => e.key === key)?.value;
  const p = at('path');
  if (p?.kind !== 'scalar' || typeof p.value !== 'string') {
    r.error(childPath(path, 'path'), 'readiness_probe needs a path (text), e.g. readiness_probe: {path: /health}');
    return undefined;
  }
  const out: ReadinessProbe = { path: p.value };
  for (const [key, field] of [['initial_delay_seconds', 'initialDelaySeconds'], ['timeout_seconds', 'timeoutSeconds']] as const) {
    const n = at(key);
    if (n === undefined || (n.kind === 'scalar' && n.value === null)) continue;
    if (n.kind === 'scalar' && typeof n.value === 'number' && n.value >= 0) out[field] = n.value;
    else r.error(childPath(path, key), `${key} is a number of seconds`);
  }
  const headers = at('headers');
  if (headers?.kind === 'map') {
    const bad = headers.entries.find((e) => e.value.kind !== 'scalar' || typeof e.value.value !== 'string');
    if (bad) r.error(childPath(childPath(path, 'headers'), bad.key), 'a header\'s value is text');
    else out.headers = Object.fromEntries(headers.entries.map((e) => [e.key, e.value.kind === 'scalar' ? String(e.value.value) : '']));
  } else if (headers !== undefined && !(headers.kind === 'scalar' && headers.value === null)) r.error(childPath(path, 'headers'), 'headers is a mapping of Name: value');
  const post = at('post_data');
  if (post !== undefined && !(post.kind === 'scalar' && post.value === null)) {
    const where = childPath(path, 'post_data');
    if (post.kind === 'map') out.postData = toPlain(post);
    else if (post.kind === 'scalar' && typeof post.value === 'string') {
      try {
        out.postData = JSON.parse(post.value) as Plain;
      } catch {
        // SkyPilot's service spec refuses it the same way.
        r.error(where, 'post_data written as text must be JSON, e.g. \'{"prompt": "hi"}\'');
      }
    } else r.error(where, 'post_data is a mapping, or JSON text');
    if (out.postData !== undefined) r.warn(where, 'a Kubernetes readiness probe can only GET: Kindtray probes the path with GET, without post_data');
  }
  if (out.initialDelaySeconds !== undefined) {
    r.warn(childPath(path, 'initial_delay_seconds'), 'SkyServe replaces a replica not ready after this long; launch replaces nothing: the endpoint shows starting until the probe passes');
  }
  return out;
}

/** service: (SkyServe). `taskPorts`: the task's own, the first of which is the probed port when service.ports is not given. */
export function checkService(r: Reporter, v: SourceValue, taskPorts: readonly number[] = []): ServiceSpec | undefined {
  if (v.kind !== 'map') {
    r.error('service', 'service is a mapping (readiness_probe, replicas, replica_policy …), as in SkyPilot');
    return undefined;
  }
  const out: ServiceSpec = {};
  unknownKeys(r, v, 'service', SERVICE_KEYS);
  for (const e of v.entries) {
    const path = childPath('service', e.key);
    if (e.key === 'readiness_probe') {
      const probe = checkReadinessProbe(r, e.value, path);
      if (probe) out.readiness = probe;
    } else if (e.key === 'ports') {
      const n = e.value.kind === 'scalar' ? e.value.value : undefined;
      if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535) out.port = n;
      else r.error(path, 'service.ports is one port number, as in SkyPilot');
    }
  }
  if (out.readiness && out.port === undefined && taskPorts.length === 0) {
    r.warn('service.readiness_probe', 'the task has no port to probe (resources.ports or service.ports): its readiness is not checked');
  }
  r.warn('service', 'launch runs the task once, as `sky launch` does: replicas, autoscaling and the load balancer are SkyServe\'s (`sky serve up`)');
  return out;
}

/** The config block: `kubernetes.pod_config` is kept for the Pod; other keys mean nothing here. */
export function checkConfig(r: Reporter, v: SourceValue): { [key: string]: Plain } | undefined {
  if (v.kind !== 'map') {
    r.error('config', 'config is a mapping of SkyPilot config keys, e.g. config: {kubernetes: {pod_config: …}}');
    return undefined;
  }
  let podConfig: { [key: string]: Plain } | undefined;
  for (const e of v.entries) {
    const path = childPath('config', e.key);
    if (e.key === 'kubernetes' && e.value.kind === 'map') {
      for (const k of e.value.entries) {
        const kpath = childPath(path, k.key);
        if (k.key === 'pod_config') {
          if (k.value.kind === 'map') {
            // Merged into the Pod by the launcher, by SkyPilot's rule (electron/server/pod-plan.ts).
            podConfig = toPlain(k.value) as { [key: string]: Plain };
          }
          else r.error(kpath, 'pod_config is a mapping: the Pod fields to merge, e.g. {spec: {…}}');
        } else {
          r.warn(kpath, `config.kubernetes.${k.key} is accepted and ignored: Kindtray creates the Pod itself`);
        }
      }
    } else {
      r.warn(path, `config.${e.key} is accepted and ignored: it configures SkyPilot, not a task on a local cluster`);
    }
  }
  return podConfig;
}

/** `envs`, or the mapping form of `secrets`: values as SkyPilot's loader makes them text, and the names left null (required at launch). */
export function checkVariables(r: Reporter, entry: SourceEntry, what: 'envs' | 'secrets'): { values: Record<string, string>; required: string[] } {
  const v = entry.value;
  const values: [string, string][] = [];
  const required: string[] = [];
  if (what === 'secrets' && v.kind === 'seq') {
    r.warn('secrets', 'a list of secrets names SkyPilot-managed secrets: Kindtray has no secret store, so none are set; give them as NAME: value');
    return { values: {}, required };
  }
  if (v.kind !== 'map') {
    r.error(what, `${what} is a mapping of NAME: value, not ${v.kind === 'seq' ? 'a list' : quote(v.text)}: write e.g. ${what}: { NAME: value }`);
    return { values: {}, required };
  }
  for (const e of v.entries) {
    const path = childPath(what, e.key);
    const place = e.value.kind === 'scalar' && e.value.value !== null && e.value.at ? e.value.at : (e.keyAt ?? e.value.at);
    if (place) r.positions[path] = place;
    const badName = checkEnvName(e.key);
    if (badName !== undefined) {
      r.error(path, badName, e.keyAt);
      continue;
    }
    const value = e.value;
    if (value.kind !== 'scalar') r.error(path, `${e.key} must be text, a number or true/false, not ${value.kind === 'map' ? 'a mapping' : 'a list'}`);
    else if (value.value === null) required.push(e.key);
    else values.push([e.key, skyPilotEnvText(value)]);
  }
  // fromEntries defines own properties: a variable named __proto__ stays a variable.
  return { values: Object.fromEntries(values), required };
}
