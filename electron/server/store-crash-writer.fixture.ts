// Test fixture for store.test.ts: writes tasks as fast as it can and reports
// each id to its parent only once create + transition have returned, i.e.
// once the task is acknowledged. With a count it stops after that many (two
// such writers on one file test concurrent processes); without one it runs
// until the parent kills it with SIGKILL.

import { TaskStore } from './store.ts';

const file = process.argv[2];
const count = process.argv[3] === undefined ? Infinity : Number(process.argv[3]);
if (!file) throw new Error('usage: store-crash-writer.fixture.ts DB_FILE [COUNT]');
const store = TaskStore.open(file);
const spec = { name: 'crash', resources: { ports: [] }, envs: {}, run: 'true', numNodes: 1 as const };

for (let i = 0; i < count; i++) {
  const t = store.create({ name: 'crash', context: 'kind-dev', source: 'run: true\n', spec });
  store.transition(t.id, 'launching');
  // Wait until the parent has the id, so "acknowledged" means what a client would have seen.
  await new Promise<void>((resolve) => process.send?.(t.id, () => resolve()));
}
store.close();
process.disconnect?.();
