// A fix as the server names it may come without its label (the worker's 503
// says only `{ fix: { id: 'restart-server' } }`): the label then comes from
// shared/fixes.ts, where every fix is named once.

export { labelledFix as labelled } from '../../shared/fixes.ts';
