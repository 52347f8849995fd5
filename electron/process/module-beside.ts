// Where a child's module is: beside the module that starts it.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Resolves a module next to `fromUrl`: the `.ts` source when running from the
 * repository (Node strips the types), the compiled `.js` in a packaged build.
 */
export function moduleBeside(fromUrl: string, relativeWithoutExtension: string): string {
  for (const ext of ['.ts', '.js']) {
    const path = fileURLToPath(new URL(`${relativeWithoutExtension}${ext}`, fromUrl));
    if (existsSync(path)) return path;
  }
  throw new Error(`cannot find ${relativeWithoutExtension} beside ${fileURLToPath(fromUrl)}`);
}
