// A unix-socket proxy in front of a Docker engine that counts the HTTP requests
// going through it: Docker API calls counted at the engine's side, whoever
// makes them. It runs as a process of its own, so the work of relaying (a
// liveness ping every fraction of a second is relayed too) is never counted as
// the CPU of the process being measured; its pid is there to be left out.
//
// As a process: `node bench/docker-counter.ts TARGET_SOCKET LISTEN_SOCKET`
// prints `ready`, then answers each stdin line `report` with one JSON line
// ({ requests, connections }) and `reset` by starting again from zero. It exits
// when its stdin closes (the benchmark ended, however it ended).

import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface DockerCounts {
  /** `METHOD /path` (API version prefix and query dropped) → how many. */
  requests: Record<string, number>;
  connections: number;
}

export interface DockerCounter {
  pid: number;
  socketPath: string;
  report(): Promise<DockerCounts>;
  reset(): void;
  close(): void;
}

/** Starts the counter process in front of `target`, listening on `socketPath`. */
export async function startDockerCounter(target: string, socketPath: string): Promise<DockerCounter> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), target, socketPath], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const next = (what: string) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`docker counter: no ${what} in 15 s`)), 15_000);
      waiting.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
  await next('ready');
  return {
    pid: child.pid ?? 0,
    socketPath,
    report: async () => {
      const answer = next('report');
      child.stdin.write('report\n');
      return JSON.parse(await answer) as DockerCounts;
    },
    reset: () => void child.stdin.write('reset\n'),
    close: () => {
      child.stdin.end();
      child.kill();
    },
  };
}

function serveCounter(target: string, socketPath: string): void {
  let requests = new Map<string, number>();
  let connections = 0;
  const line = /(GET|POST|HEAD|PUT|DELETE) (\/[^ ?]*)[^ ]* HTTP\/1\.[01]\r\n/g;
  const server = createServer((client) => {
    connections++;
    const upstream = createConnection(target);
    client.on('data', (b: Buffer) => {
      for (const m of b.toString('latin1').matchAll(line)) {
        const key = `${m[1]} ${(m[2] ?? '').replace(/^\/v[\d.]+\//, '/')}`;
        requests.set(key, (requests.get(key) ?? 0) + 1);
      }
      upstream.write(b);
    });
    upstream.pipe(client);
    client.on('end', () => upstream.end());
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('error', drop);
      s.on('close', drop);
    }
  });
  rmSync(socketPath, { force: true });
  server.listen(socketPath, () => process.stdout.write('ready\n'));
  const commands = createInterface({ input: process.stdin });
  commands.on('line', (cmd) => {
    if (cmd === 'reset') {
      requests = new Map();
      connections = 0;
    } else if (cmd === 'report') {
      process.stdout.write(`${JSON.stringify({ requests: Object.fromEntries([...requests.entries()].sort()), connections })}\n`);
    }
  });
  commands.on('close', () => process.exit(0));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [target, socketPath] = process.argv.slice(2);
  if (!target || !socketPath) {
    process.stderr.write('usage: node bench/docker-counter.ts TARGET_SOCKET LISTEN_SOCKET\n');
    process.exit(2);
  }
  serveCounter(target, socketPath);
}
