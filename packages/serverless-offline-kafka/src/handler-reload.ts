/**
 * Rebuilt handler code for in-process functions. serverless-offline's in-process runner loads a handler
 * with `require`, so after serverless-esbuild rebuilt a bundle (`offline:functionsUpdated`) a fresh
 * runner would still get the module Node cached at the first load: in-process handlers, HTTP ones
 * included, kept running the old code until a restart. Worker threads load their handler anew in each
 * new worker and need nothing of this.
 */
import { sep } from 'node:path';

/** this plugin's code (its dist/, or src/ under ts-jest), wherever it is installed; not its test fixtures */
const PLUGIN_CODE = __dirname;

/**
 * Drop from `cache` (Node's require cache) every module loaded from `serviceDir` that is not a
 * dependency (under node_modules) nor in one of the `keep` folders (by default this plugin's own files), so the next `require` of a handler reads the rebuilt file. Returns how many were dropped.
 * Handlers loaded as ES modules (`import()`) cannot be unloaded; bundles written as CommonJS can.
 */
export function forgetLoadedHandlers(
  serviceDir: string,
  keep: string[] = [PLUGIN_CODE],
  cache: Record<string, unknown> = require.cache,
): number {
  const inside = (dir: string, file: string) => file === dir || file.startsWith(dir.endsWith(sep) ? dir : dir + sep);
  let dropped = 0;
  for (const file of Object.keys(cache)) {
    if (!inside(serviceDir, file) || file.includes(`${sep}node_modules${sep}`)) continue;
    if (keep.some((dir) => inside(dir, file))) continue;
    delete cache[file];
    dropped += 1;
  }
  return dropped;
}
