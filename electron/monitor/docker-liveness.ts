// The Docker liveness ping, made cheap enough to run every few hundred
// milliseconds all day. On a unix socket it is two things: access(2) on the
// socket file, which fails at once when the permission is taken away (a
// connection already open would keep working, so a kept-alive ping alone could
// not tell), and a `_ping` over one kept-alive connection, which a frozen
// engine never answers. Elsewhere (tcp, ssh, npipe) it is dockerode's own ping.

import { accessSync, constants } from 'node:fs';
import { Agent, request } from 'node:http';
import type Docker from 'dockerode';
import { withDeadline } from '../../shared/deadline.ts';
import type { DockerEndpoint } from './docker-endpoint.ts';
import type { SignalledDocker } from './docker.ts';

export class DockerLiveness {
  private readonly endpoint: DockerEndpoint;
  private readonly docker: Docker;
  private agent: Agent | undefined;

  constructor(endpoint: DockerEndpoint, docker: Docker) {
    this.endpoint = endpoint;
    this.docker = docker;
  }

  /** Resolves when the engine answered within `deadlineMs`; rejects with the failure (a DeadlineError, or a socket error with its code). */
  async ping(deadlineMs: number): Promise<void> {
    const socketPath = this.endpoint.socketPath;
    const what = `Docker engine at ${this.endpoint.url}`;
    if (!socketPath || socketPath.startsWith('//')) {
      const d = this.docker as unknown as SignalledDocker;
      await withDeadline(what, deadlineMs, (signal) => d.ping({ abortSignal: signal }));
      return;
    }
    // Throws ENOENT (stopped) or EACCES (no permission) as connect(2) would.
    accessSync(socketPath, constants.R_OK | constants.W_OK);
    this.agent ??= new Agent({ keepAlive: true, maxSockets: 1 });
    const agent = this.agent;
    try {
      await withDeadline(what, deadlineMs, (signal) => pingOver(agent, socketPath, signal));
    } catch (e) {
      // The kept connection may be the broken thing: the next ping starts afresh.
      this.close();
      throw e;
    }
  }

  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }
}

function pingOver(agent: Agent, socketPath: string, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', agent, signal }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`_ping answered ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
