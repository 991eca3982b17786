import { createTopic, deleteTopics, uniqueName, waitFor } from '../helpers/kafka';
import type { OfflineProcess } from '../helpers/offline';
import { createReport, instructions, produce, startFixture, starts } from './fixture';

/**
 * The plugin's `useInProcess` decides where Kafka-triggered handlers run, whatever serverless-offline
 * does with HTTP functions: started with `--useInProcess`, the HTTP function answers from serverless
 * offline's own thread while the Kafka-triggered one, with `useInProcess: false`, runs in a worker.
 */
const TOPIC_MODES = uniqueName('es-modes');
const report = createReport();
let offline: OfflineProcess;

beforeAll(async () => {
  await createTopic(TOPIC_MODES, 1);
  offline = await startFixture('modes.yml', { TOPIC_MODES, REPORT_FILE: report.file }, 90_000, ['--useInProcess']);
}, 150_000);

afterAll(async () => {
  await offline?.stop();
  await deleteTopics([TOPIC_MODES]);
  report.cleanup();
});

it('runs the HTTP function in-process and the Kafka-triggered function in a worker thread', async () => {
  const response = await fetch(`${offline.url}/thread`);
  expect(await response.json()).toMatchObject({ thread: 0 });

  await produce(TOPIC_MODES, [{ value: instructions('m1') }]);
  await waitFor(() => starts(report.entries(), 'probe').length > 0, { what: 'the probe to be invoked' });
  const threads = starts(report.entries(), 'probe').map((e) => e.thread);
  expect(threads.filter((t) => t === 0)).toEqual([]);
});

it('leaves no message port open per invocation in worker threads (serverless-offline 13 leaves two)', async () => {
  const openPorts = async () =>
    ((await (await fetch(`${offline.url}/thread`)).json()) as { messagePorts: number }).messagePorts;
  const before = await openPorts();
  const invoked = starts(report.entries(), 'probe').length;
  // batchSize 1: one invocation each
  await produce(
    TOPIC_MODES,
    Array.from({ length: 150 }, (_, i) => ({ value: instructions(`p${i}`) })),
  );
  await waitFor(() => starts(report.entries(), 'probe').length >= invoked + 150, {
    what: '150 more invocations',
    timeoutMs: 60_000,
  });
  expect((await openPorts()) - before).toBeLessThan(10);
});
