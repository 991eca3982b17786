import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTopic, deleteTopics, uniqueName, waitFor } from '../helpers/kafka';
import type { OfflineProcess } from '../helpers/offline';
import {
  FIXTURE_DIR,
  createReport,
  finishedIds,
  instructions,
  produce,
  startFixture,
  starts,
  waitForCommit,
} from './fixture';

/**
 * Editing a handler while `serverless offline` runs: serverless-esbuild rebuilds it, and the next batch
 * of a Kafka-triggered function and the next HTTP request run the new code, with no restart, in worker
 * threads and in-process alike; records keep flowing during the edit and each is handled once, in order.
 */
const VERSION_FILE = join(FIXTURE_DIR, 'handlers', 'version.ts');
const ORIGINAL = readFileSync(VERSION_FILE, 'utf8');
/** Written only when changed: every write makes each fixture service running meanwhile rebuild its handlers. */
const restoreVersion = () => {
  if (readFileSync(VERSION_FILE, 'utf8') !== ORIGINAL) writeFileSync(VERSION_FILE, ORIGINAL);
};

describe.each([
  { mode: 'worker threads', args: [] as string[], inProcess: false },
  { mode: 'in-process', args: ['--useInProcess'], inProcess: true },
])('a handler edited while serverless offline runs ($mode)', ({ args, inProcess }) => {
  const topic = uniqueName('es-reload');
  const report = createReport();
  let offline: OfflineProcess;

  beforeAll(async () => {
    restoreVersion();
    await createTopic(topic, 1);
    offline = await startFixture('reload.yml', { TOPIC_RELOAD: topic, REPORT_FILE: report.file }, 90_000, args);
  }, 150_000);

  afterAll(async () => {
    restoreVersion();
    await offline?.stop();
    await deleteTopics([topic]);
    report.cleanup();
  });

  const httpVersion = async () =>
    (await (await fetch(`${offline.url}/version`)).json()) as { version: string; thread: number };

  it('runs the new code at the next batch and the next request; every record handled once, in order', async () => {
    await produce(topic, [{ value: instructions('before-edit') }]);
    await waitFor(() => finishedIds(report.entries(), 'reloader').has('before-edit'), { what: 'the first record' });
    expect(await httpVersion()).toEqual({ version: 'v1', thread: expect.any(Number) });
    expect((await httpVersion()).thread === 0).toBe(inProcess);

    // records keep coming while the file is saved and rebuilt
    let sent = 1;
    let producing = true;
    const producer = (async () => {
      while (producing) {
        await produce(topic, [{ value: instructions(`during-${sent}`) }]);
        sent += 1;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      writeFileSync(VERSION_FILE, ORIGINAL.replace("'v1'", "'v2'"));
      await waitFor(
        async () =>
          starts(report.entries(), 'reloader').some((e) => e.version === 'v2') &&
          (await httpVersion()).version === 'v2',
        { timeoutMs: 60_000, intervalMs: 250, what: 'the rebuilt handlers to run' },
      );
    } finally {
      producing = false;
      await producer;
    }

    await waitForCommit(`es-reload-local-reloader-${topic}`, topic, String(sent), `offset ${sent} to be committed`);
    const invocations = starts(report.entries(), 'reloader');
    const offsets = invocations.flatMap((e) => e.records.map((r) => r.offset));
    expect(offsets).toEqual(Array.from({ length: sent }, (_, i) => i));
    const versions = invocations.map((e) => e.version);
    expect(versions.indexOf('v2')).toBeGreaterThan(0);
    expect(versions.slice(versions.indexOf('v2'))).not.toContain('v1');
    expect(invocations.every((e) => (e.thread === 0) === inProcess)).toBe(true);
  });
});
