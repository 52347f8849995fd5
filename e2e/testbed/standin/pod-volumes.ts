// Pod IPs and downward-API volumes, as the kubelet gives them, for Pods that
// all run in the stand-in's one container:
// - each Pod gets its own IP on the container's loopback (127.0.x.y: Linux
//   answers the whole 127/8 on `lo`, no alias needed), so a server bound to its
//   Pod IP is reached there, and two Pods can listen on one port each on its IP;
// - a downwardAPI volume's files (metadata.name, labels, annotations, one
//   annotation or label by key) are written at the container's mountPath, and
//   written again when the Pod's labels or annotations change (the kubelet
//   remounts such volumes on every Pod update). Pods share one filesystem here,
//   so two Pods mounting the same path see the same files.

import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { KubeObject } from './store.ts';

/** The next Pod IP not held by any of `held`: 127.0.x.y, x from 1, y 1..254. */
export function nextPodIp(held: ReadonlySet<string>, start: number): { ip: string; next: number } {
  for (let i = 0; i < 254 * 254; i++) {
    const n = (start + i) % (254 * 254);
    const ip = `127.0.${Math.floor(n / 254) + 1}.${(n % 254) + 1}`;
    if (!held.has(ip)) return { ip, next: n + 1 };
  }
  return { ip: '127.0.0.1', next: start };
}

interface DownwardItem {
  path: string;
  fieldRef?: { fieldPath?: string };
}

/** One downward-API field's text, as the kubelet renders it (maps as `key="value"` lines, sorted). */
function fieldText(pod: KubeObject, fieldPath: string): string {
  const meta = pod.metadata;
  const map = (m: Record<string, string> | undefined) =>
    Object.entries(m ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join('\n');
  const keyed = /^metadata\.(annotations|labels)\['(.+)'\]$/.exec(fieldPath);
  if (keyed) return (keyed[1] === 'annotations' ? meta.annotations : meta.labels)?.[keyed[2] ?? ''] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return meta.name;
    case 'metadata.namespace':
      return meta.namespace ?? 'default';
    case 'metadata.uid':
      return meta.uid;
    case 'metadata.labels':
      return map(meta.labels);
    case 'metadata.annotations':
      return map(meta.annotations);
    default:
      return '';
  }
}

/** Writes every downwardAPI volume the Pod's containers mount (each file replaced whole, never half-written). */
export function writeDownwardVolumes(pod: KubeObject): void {
  const volumes = (pod.spec?.volumes as { name: string; downwardAPI?: { items?: DownwardItem[] } }[] | undefined) ?? [];
  const containers = (pod.spec?.containers as { volumeMounts?: { name: string; mountPath: string }[] }[] | undefined) ?? [];
  for (const volume of volumes) {
    const items = volume.downwardAPI?.items;
    if (!items) continue;
    for (const mount of containers.flatMap((c) => c.volumeMounts ?? []).filter((m) => m.name === volume.name)) {
      for (const item of items) {
        const file = path.join(mount.mountPath, item.path);
        try {
          mkdirSync(path.dirname(file), { recursive: true });
          const tmp = `${file}.tmp-${process.pid}`;
          writeFileSync(tmp, fieldText(pod, item.fieldRef?.fieldPath ?? ''));
          renameSync(tmp, file);
        } catch (err) {
          console.error(`stand-in: pod ${pod.metadata.name}: downward API file ${file}: ${(err as Error).message}`);
        }
      }
    }
  }
}
