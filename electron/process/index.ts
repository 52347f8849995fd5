// The process room's door: the one way Kindtray starts, talks to and ends a
// child process, and the child's side of that line.
export type { ChildHandle, ChildLauncher, LaunchOptions } from './types.ts';
export { forkLauncher, killProcessGroup } from './fork.ts';
export { CHILD_V8_FLAGS } from './v8-flags.ts';
export { moduleBeside } from './module-beside.ts';
export { Child, startChild, describeExit, type ChildExit, type StartChildOptions } from './child.ts';
export { parentChannel, type ParentChannel } from './parent-channel.ts';
export { isAlive } from './alive.ts';
