#!/usr/bin/env node
// The `kindtray` command. Plain JavaScript so that it can say clearly when the
// Node.js running it is too old, before any TypeScript is loaded.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `kindtray needs Node.js 24 or newer; this is ${process.version}.\n` +
      'In a clone of the repository, `npm ci` installs Node 24 for the project: run `npx kindtray ...` or `npm start`.\n',
  );
  process.exit(2);
}
// Compiled (and type-stripped) code is cached on disk: a warm command starts about 0.3 s sooner.
const { enableCompileCache } = await import('node:module');
const cache = enableCompileCache?.();
// The processes `serve` starts (API worker, Kubernetes child) use the same cache through their
// environment: without it each one loads Node's TypeScript stripper again (≈ 17-30 MiB of RSS).
if (cache?.directory && !process.env.NODE_COMPILE_CACHE && !process.env.NODE_DISABLE_COMPILE_CACHE) {
  process.env.NODE_COMPILE_CACHE = cache.directory;
}
const args = process.argv.slice(2);
// `serve` lives all day, as its children do: it runs with their V8 flags (electron/process/v8-flags.ts
// says why), by starting Node again in this same process (execve: same pid, same stdio). Where the
// platform has no execve (Windows), it runs without them. Other commands never get here.
if (args[0] === 'serve' && typeof process.execve === 'function') {
  const { CHILD_V8_FLAGS } = await import('../process/index.ts');
  if (!CHILD_V8_FLAGS.every((f) => process.execArgv.includes(f))) {
    try {
      process.execve(process.execPath, [process.execPath, ...CHILD_V8_FLAGS, ...process.execArgv, process.argv[1], ...args], process.env);
    } catch {
      // Cannot start again here (a worker thread, a sandbox): serve as we are.
    }
  }
}
const { main } = await import('./main.ts');
const code = await main(args);
process.exitCode = code;
// A command is done when main returns; a stray handle (a watcher, a keep-alive socket) must not keep it alive.
setTimeout(() => process.exit(code), 200).unref();
