// The stand-in's object store: the Kubernetes objects it serves, one global
// resourceVersion counter (as etcd's revision), and watchers that receive
// ADDED/MODIFIED/DELETED events, so list+watch clients (informers, `kubectl get
// -w`, `kubectl wait`) behave as against a real API server.

import { randomUUID } from 'node:crypto';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  generateName?: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [more: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [more: string]: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export interface WatchEvent {
  type: WatchEventType;
  object: KubeObject;
}

export type Resource = 'pods' | 'services' | 'secrets' | 'namespaces' | 'nodes';

interface Watcher {
  resource: Resource;
  namespace: string | undefined;
  send(event: WatchEvent): void;
}

/** Kubernetes writes times as RFC 3339 with whole seconds. */
export const kubeTime = (date: Date = new Date()): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

const keyOf = (namespace: string | undefined, name: string): string => `${namespace ?? ''}/${name}`;

/** How many past events a watch can resume from (by resourceVersion). */
const EVENT_HISTORY = 2_000;

export class Store {
  private revision = 1_000;
  private readonly objects = new Map<Resource, Map<string, KubeObject>>();
  private readonly watchers = new Set<Watcher>();
  private readonly history: { rv: number; resource: Resource; event: WatchEvent }[] = [];
  /** Called after every change (the stand-in persists its state from here). */
  onChange: () => void = () => {};

  /** The current revision, for list responses. */
  get resourceVersion(): string {
    return String(this.revision);
  }

  private table(resource: Resource): Map<string, KubeObject> {
    let t = this.objects.get(resource);
    if (!t) this.objects.set(resource, (t = new Map()));
    return t;
  }

  get(resource: Resource, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.table(resource).get(keyOf(namespace, name));
  }

  list(resource: Resource, namespace?: string): KubeObject[] {
    const all = [...this.table(resource).values()];
    const filtered = namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
    return filtered.sort((a, b) => keyOf(a.metadata.namespace, a.metadata.name).localeCompare(keyOf(b.metadata.namespace, b.metadata.name)));
  }

  /** Stores a new object, filling uid, resourceVersion and creationTimestamp. The caller checks for conflicts. */
  create(resource: Resource, object: KubeObject): KubeObject {
    object.metadata.uid = object.metadata.uid || randomUUID();
    object.metadata.creationTimestamp = object.metadata.creationTimestamp || kubeTime();
    object.metadata.resourceVersion = String(++this.revision);
    this.table(resource).set(keyOf(object.metadata.namespace, object.metadata.name), object);
    this.emit(resource, { type: 'ADDED', object });
    return object;
  }

  /** Replaces a stored object in place (same key), bumping its resourceVersion. */
  update(resource: Resource, object: KubeObject): KubeObject {
    object.metadata.resourceVersion = String(++this.revision);
    this.table(resource).set(keyOf(object.metadata.namespace, object.metadata.name), object);
    this.emit(resource, { type: 'MODIFIED', object });
    return object;
  }

  remove(resource: Resource, namespace: string | undefined, name: string): KubeObject | undefined {
    const key = keyOf(namespace, name);
    const object = this.table(resource).get(key);
    if (!object) return undefined;
    this.table(resource).delete(key);
    object.metadata.resourceVersion = String(++this.revision);
    this.emit(resource, { type: 'DELETED', object });
    return object;
  }

  /**
   * Registers a watcher. Events after `sinceRv` that are still in the history
   * are replayed first; returns false when `sinceRv` is too old to resume
   * (the API then answers 410 Gone, and clients relist).
   */
  watch(resource: Resource, namespace: string | undefined, sinceRv: number | undefined, send: (e: WatchEvent) => void): { ok: boolean; stop(): void } {
    const watcher: Watcher = { resource, namespace, send };
    if (sinceRv !== undefined) {
      const oldest = this.history[0]?.rv ?? this.revision + 1;
      if (sinceRv < oldest - 1 && sinceRv < this.revision) return { ok: false, stop: () => {} };
      for (const h of this.history) {
        if (h.rv > sinceRv && h.resource === resource && (namespace === undefined || h.event.object.metadata.namespace === namespace)) send(h.event);
      }
    }
    this.watchers.add(watcher);
    return { ok: true, stop: () => this.watchers.delete(watcher) };
  }

  /** Continues the revision counter of a restored state, so resourceVersions keep growing across restarts. */
  restoreRevision(revision: number): void {
    this.revision = Math.max(this.revision, revision);
  }

  private emit(resource: Resource, event: WatchEvent): void {
    this.onChange();
    // Watchers get a snapshot: later in-place updates must not change what was sent.
    const frozen: WatchEvent = { type: event.type, object: structuredClone(event.object) };
    this.history.push({ rv: this.revision, resource, event: frozen });
    if (this.history.length > EVENT_HISTORY) this.history.shift();
    for (const w of this.watchers) {
      if (w.resource === resource && (w.namespace === undefined || frozen.object.metadata.namespace === w.namespace)) w.send(frozen);
    }
  }
}
