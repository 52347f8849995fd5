// The API worker room's door. The worker runs as its own process
// (worker-main.ts), spawned by the supervisor and never imported by it; its
// HTTP helpers are the HTTP room's (electron/http/).
// Benchmarks measure the workdir copy on its own (bench/workdir-copy.ts): that part is re-exported here.
export { copyTaskFiles } from './file-sync-copy.ts';
export { KubeOps } from './kube-ops.ts';
// And launch → running for 1 and 4 nodes (bench/launch-nodes.ts): the launcher and its store.
export { Launcher } from './launcher.ts';
export { TaskStore } from './store.ts';
