// A Node module hook that answers `import ... from 'electron'` with the shim.

const SHIM = new URL('./electron-node-shim.ts', import.meta.url).href;

type Resolve = (specifier: string, context: unknown) => Promise<{ url: string; shortCircuit?: boolean }>;

export async function resolve(specifier: string, context: unknown, next: Resolve): Promise<{ url: string; shortCircuit?: boolean }> {
  if (specifier === 'electron') return { url: SHIM, shortCircuit: true };
  return next(specifier, context);
}
