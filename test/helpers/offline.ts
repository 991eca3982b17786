import { resolve } from 'node:path';
import {
  startOffline as startService,
  type OfflineProcess,
} from '../../packages/serverless-offline-kafka/test/helpers/offline';

export {
  freePort,
  SERVERLESS,
  type OfflineProcess,
} from '../../packages/serverless-offline-kafka/test/helpers/offline';

const ROOT = resolve(__dirname, '..', '..');

/** `serverless offline start` for this project's serverless.yml, or for another service given as `cwd`. */
export function startOffline(
  options: Omit<Parameters<typeof startService>[0], 'cwd'> & { cwd?: string } = {},
): Promise<OfflineProcess> {
  return startService({ ...options, cwd: options.cwd ?? ROOT });
}
