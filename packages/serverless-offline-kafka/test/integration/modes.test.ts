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
  expect(await response.json()).toEqual({ thread: 0 });

  await produce(TOPIC_MODES, [{ value: instructions('m1') }]);
  await waitFor(() => starts(report.entries(), 'probe').length > 0, { what: 'the probe to be invoked' });
  const threads = starts(report.entries(), 'probe').map((e) => e.thread);
  expect(threads.filter((t) => t === 0)).toEqual([]);
});
