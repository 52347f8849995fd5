// The API worker room's door. The worker runs as its own process
// (worker-main.ts), spawned by the supervisor and never imported by it; its
// HTTP helpers are the HTTP room's (electron/http/).
// Benchmarks measure the workdir copy on its own (bench/workdir-copy.ts): that part is re-exported here.
export { copyTaskFiles } from './file-sync-copy.ts';
export { KubeOps } from './kube-ops.ts';
