// V8 flags for Kindtray's long-lived Node processes, which live all day and
// mostly idle: the children (fork.ts) and `kindtray serve` itself (bin.js
// starts it again with them). A file of its own so that bin.js reads the
// flags without loading the process room.

/**
 * One V8 helper thread instead of one per core, and a young generation that
 * stays at its smallest (1 MiB semi-spaces, not up to 16): about 12 MiB less
 * RSS per process (bench/footprint.ts). No helper threads used at all
 * (--single-threaded: garbage collection and optimising compiles on the main
 * thread): an idle process otherwise wakes a V8 worker one or two times a
 * second for small collections, each as dear as a wake-up of the main thread
 * (bench/idle-cpu.ts counts them by thread). The price is more, shorter
 * scavenges and a few milliseconds of main-thread work where a helper would
 * have done it, under bursts these processes rarely see.
 */
export const CHILD_V8_FLAGS: readonly string[] = ['--v8-pool-size=1', '--max-semi-space-size=1', '--single-threaded'];
