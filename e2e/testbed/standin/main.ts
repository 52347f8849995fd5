// Entry point of the Kubernetes API stand-in, the process a KinD-like
// control-plane container runs (under the host's Node, bind-mounted). It
// serves HTTPS on 6443 with a certificate signed by the testbed's CA, and puts
// a plain TCP listener in front of TLS so the fault switches can act before the
// handshake (refuse, hang at handshake) as well as per request (hang, slow).
//
// Paths can be overridden by env vars so the stand-in can also run on the host
// while it is being developed: STANDIN_CLUSTER_DIR, STANDIN_PKI_DIR, STANDIN_PORT,
// STANDIN_STATE_FILE.

import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer } from 'node:net';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { KubeApi } from './api.ts';
import type { PersistedState } from './api.ts';
import { acceptWebSocket } from './exec.ts';
import { FaultSwitch } from './faults.ts';
import { NodeReadiness } from './nodes-ready.ts';
import { API_CONTAINER_PORT, CONFIG_FILE, FAULTS_FILE, IN_CONTAINER, PKI_FILES, readStandinConfig } from './protocol.ts';

const clusterDir = process.env.STANDIN_CLUSTER_DIR ?? IN_CONTAINER.cluster;
const pkiDir = process.env.STANDIN_PKI_DIR ?? IN_CONTAINER.pki;
const port = Number(process.env.STANDIN_PORT ?? API_CONTAINER_PORT);

const configFile = join(clusterDir, CONFIG_FILE);
const config = readStandinConfig(configFile);
// Node creation time survives container restarts: it is the config file's.
const api = new KubeApi(config, statSync(configFile).mtime);

// The API's objects survive `docker stop`/`start` as etcd's do on a KinD node:
// they are saved in the container's own writable layer (gone with the container).
const stateFile = process.env.STANDIN_STATE_FILE ?? IN_CONTAINER.state;
const nodes = new NodeReadiness(config, clusterDir, stateFile);
try {
  api.restore(JSON.parse(readFileSync(stateFile, 'utf8')) as PersistedState);
  console.log(`stand-in: restored state from ${stateFile}`);
} catch (err) {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') console.error(`stand-in: cannot restore ${stateFile}: ${(err as Error).message}`);
}
let saveTimer: NodeJS.Timeout | undefined;
function saveState(): void {
  clearTimeout(saveTimer);
  saveTimer = undefined;
  mkdirSync(dirname(stateFile), { recursive: true });
  writeFileSync(`${stateFile}.tmp`, JSON.stringify(api.snapshot()));
  renameSync(`${stateFile}.tmp`, stateFile);
}
// Changes come in bursts (a Pod's status moves several times in a few ms): save once per burst.
api.store.onChange = () => {
  saveTimer ??= setTimeout(saveState, 50);
};
const faults = new FaultSwitch(join(clusterDir, FAULTS_FILE));
api.faultNow = () => faults.current();

const https = createHttpsServer(
  {
    key: readFileSync(join(pkiDir, PKI_FILES.serverKey)),
    cert: readFileSync(join(pkiDir, PKI_FILES.serverCert)),
    ca: readFileSync(join(pkiDir, PKI_FILES.caCert)),
    // Client certificates are asked for and checked per request (401 when
    // missing or foreign), as kube-apiserver does, rather than failing TLS.
    requestCert: true,
    rejectUnauthorized: false,
  },
  (req, res) => {
    const fault = faults.current();
    nodes.sync(api.store, fault);
    switch (fault.kind) {
      case 'refuse':
        req.socket.destroy();
        return;
      case 'hang':
        if (fault.stage === 'stream') return void api.handle(req, res);
        // Accepted and never answered; the socket stays open until the client gives up.
        held.add(req.socket);
        req.socket.once('close', () => held.delete(req.socket));
        return;
      case 'slow': {
        const timer = setTimeout(() => void api.handle(req, res), fault.delayMs);
        req.socket.once('close', () => clearTimeout(timer));
        return;
      }
      default:
        void api.handle(req, res);
    }
  },
);
// pods/exec (exec.ts), under the same faults; `hang` at stage `stream` accepts the WebSocket and then goes silent.
https.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
  const fault = faults.current();
  socket.on('error', () => {});
  if (fault.kind === 'refuse') return void socket.destroy();
  if (fault.kind === 'hang') {
    held.add(socket);
    socket.once('close', () => held.delete(socket));
    if (fault.stage === 'stream' && acceptWebSocket(req, socket)) socket.pause();
    return;
  }
  if (fault.kind === 'slow') return void setTimeout(() => api.upgrade(req, socket, head), fault.delayMs);
  api.upgrade(req, socket, head);
});
https.on('tlsClientError', () => {
  // Clients that give up mid-handshake (probes with deadlines) are normal here.
});

const held = new Set<Socket>();

const front = createTcpServer((socket) => {
  const fault = faults.current();
  socket.on('error', () => {});
  if (fault.kind === 'refuse') {
    socket.resetAndDestroy();
    return;
  }
  if (fault.kind === 'hang' && fault.stage === 'handshake') {
    held.add(socket);
    socket.once('close', () => held.delete(socket));
    return;
  }
  https.emit('connection', socket);
});
front.listen(port, '0.0.0.0', () => {
  console.log(`stand-in: cluster ${config.clusterName} (${config.kubernetesVersion}), ${config.nodes.length} node(s), listening on ${port}`);
});

// Prompt exit on SIGTERM: `docker stop` and a dockerd shutdown then take
// milliseconds, not the 10 s grace period. Pods go with us, as on a real node.
function shutdown(signal: string): void {
  console.log(`stand-in: ${signal}, exiting`);
  api.runner.killAll();
  try {
    saveState();
  } catch (err) {
    console.error(`stand-in: cannot save state: ${(err as Error).message}`);
  }
  process.exit(0);
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
