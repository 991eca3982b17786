import { startOffline, type OfflineProcess } from '../helpers/offline';
import { FIXTURE_DIR } from './fixture';

/**
 * serverless-offline 13 keeps a function instance whose invocation timed out in its pool, with its
 * worker thread terminated: without the plugin's recovery every later request to it times out too.
 */
let offline: OfflineProcess;

beforeAll(async () => {
  offline = await startOffline({ cwd: FIXTURE_DIR, config: 'timeout.yml', timeoutMs: 90_000 });
}, 120_000);

afterAll(() => offline?.stop());

async function get(query = ''): Promise<{ status: number; body: string }> {
  const response = await fetch(`${offline.url}/slow${query}`, { signal: AbortSignal.timeout(20_000) });
  return { status: response.status, body: await response.text() };
}

it('an HTTP function that timed out once answers the next requests (a fresh instance replaces the dead one)', async () => {
  expect(await get()).toEqual({ status: 200, body: 'answered' });
  // the function's timeout is 2 s: serverless offline answers its own timeout error
  const timedOut = await get('?sleep=4000');
  expect(timedOut.body).toMatch(/Lambda timeout/);
  for (let i = 0; i < 3; i += 1) expect(await get()).toEqual({ status: 200, body: 'answered' });
});
