// A child for child.test.ts: says ready (or not), echoes, and can leave a grandchild behind.
import { spawn } from 'node:child_process';
import { parentChannel } from './parent-channel.ts';

const parent = parentChannel();
const mode = process.env.FIXTURE_MODE ?? 'ready';
parent.onMessage((m) => parent.send({ type: 'echo', value: m }));
parent.onDisconnect(() => process.exit(0));
if (mode === 'grandchild') {
  const sleeper = spawn('sleep', ['300'], { stdio: 'ignore' });
  parent.send({ type: 'grandchild', pid: sleeper.pid });
}
if (mode === 'exit') process.exit(3);
if (mode !== 'silent') {
  parent.send('not a message of ours');
  parent.send({ type: 'ready', pid: process.pid });
}
setInterval(() => undefined, 60_000);
