// NodePorts, done for real: for each NodePort (or LoadBalancer) Service port
// the stand-in listens on the nodePort in its container and forwards TCP to
// 127.0.0.1:targetPort, where the Pod's process listens (Pods share the
// container's network). A host port that the cluster's extraPortMappings
// publish to that nodePort therefore reaches the task, as kube-proxy makes it
// on a KinD node.

import { createConnection, createServer } from 'node:net';
import type { Server } from 'node:net';
import { NODE_PORT_RANGE } from './protocol.ts';

export class NodePorts {
  private readonly listeners = new Map<number, Server>();
  private readonly allocated = new Set<number>();
  private next: number = NODE_PORT_RANGE.min;

  isAllocated(port: number): boolean {
    return this.allocated.has(port);
  }

  /** Reserves a given port, or the next free one in the range; undefined when the range is full. */
  allocate(port?: number): number | undefined {
    if (port !== undefined) {
      if (this.allocated.has(port)) return undefined;
      this.allocated.add(port);
      return port;
    }
    const size = NODE_PORT_RANGE.max - NODE_PORT_RANGE.min + 1;
    for (let i = 0; i < size; i++) {
      const candidate = NODE_PORT_RANGE.min + ((this.next - NODE_PORT_RANGE.min + i) % size);
      if (!this.allocated.has(candidate)) {
        this.allocated.add(candidate);
        this.next = candidate + 1;
        return candidate;
      }
    }
    return undefined;
  }

  /** Listens on `nodePort` and forwards each connection to the target that `resolveTarget` names at that moment. */
  open(nodePort: number, resolveTarget: () => number | undefined): void {
    const server = createServer((client) => {
      const target = resolveTarget();
      if (target === undefined) {
        client.destroy();
        return;
      }
      const upstream = createConnection({ host: '127.0.0.1', port: target });
      // Nothing listening behind the Service: drop the client, as kube-proxy's rules do.
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      client.pipe(upstream).pipe(client);
    });
    server.on('error', (err) => console.error(`stand-in: nodePort ${nodePort}: ${err.message}`));
    server.listen(nodePort, '0.0.0.0');
    this.listeners.set(nodePort, server);
  }

  release(nodePort: number): void {
    this.allocated.delete(nodePort);
    const server = this.listeners.get(nodePort);
    this.listeners.delete(nodePort);
    server?.close();
  }
}
