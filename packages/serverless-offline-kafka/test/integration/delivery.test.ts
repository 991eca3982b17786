import { createTopic, deleteTopics, uniqueName, waitFor, withAdmin } from '../helpers/kafka';
import type { OfflineProcess } from '../helpers/offline';
import {
  committedOffsets,
  createReport,
  finishedIds,
  instructions,
  produce,
  startFixture,
  waitForCommit,
  starts,
  type ReportEntry,
} from './fixture';

/**
 * The event source delivers like AWS: ordering and parallelism, offsets committed only
 * after success, stable consumer groups, starting positions, fan-out, clean Ctrl-C, and no record lost
 * when `serverless offline` is killed mid-batch and started again. One file, restarted in between.
 */
const topics = {
  TOPIC_ORDER: uniqueName('es-order'),
  TOPIC_RESUME: uniqueName('es-resume'),
  TOPIC_LATEST: uniqueName('es-latest'),
  TOPIC_TS: uniqueName('es-ts'),
  TOPIC_KILL: uniqueName('es-kill'),
};
const GROUP_RESUME = uniqueName('es-resume-group');
const derivedGroup = `es-delivery-local-derived-${topics.TOPIC_RESUME}`;
const env = () => ({ ...topics, GROUP_RESUME, REPORT_FILE: report.file });
const report = createReport();
let offline: OfflineProcess;

const ids = (e: ReportEntry) => e.records.map((r) => r.id);
const idsOf = (fn: string) => starts(report.entries(), fn).flatMap(ids);
const waitForFinished = (fn: string, wanted: string[], timeoutMs = 60_000) =>
  waitFor(() => wanted.every((id) => finishedIds(report.entries(), fn).has(id)), {
    timeoutMs,
    what: `${fn} to finish ${wanted.join(', ')}`,
  });

beforeAll(async () => {
  await createTopic(topics.TOPIC_ORDER, 3);
  await createTopic(topics.TOPIC_RESUME, 1);
  await createTopic(topics.TOPIC_LATEST, 1);
  await createTopic(topics.TOPIC_TS, 1);
  await createTopic(topics.TOPIC_KILL, 2);
  // before the first start: LATEST must skip this one, AT_TIMESTAMP the older one
  await produce(topics.TOPIC_LATEST, [{ value: instructions('before-start') }]);
  await produce(topics.TOPIC_TS, [
    { value: instructions('ts-old'), timestamp: String(Date.UTC(2020, 0, 1)) },
    { value: instructions('ts-new'), timestamp: String(Date.now()) },
  ]);
  offline = await startFixture('delivery.yml', env());
}, 150_000);

afterAll(async () => {
  await offline?.stop();
  await deleteTopics(Object.values(topics));
  report.cleanup();
});

describe('ordering and parallelism', () => {
  it('a slow partition does not hold the others; each partition is delivered in order, one batch at a time', async () => {
    await produce(topics.TOPIC_ORDER, [
      { partition: 0, value: instructions('slow', { sleepMs: 6000 }) },
      { partition: 0, value: instructions('p0-after') },
    ]);
    await waitFor(() => idsOf('ordered').includes('slow'), { what: 'the slow record to start' });
    for (let i = 0; i < 6; i += 1) {
      await produce(topics.TOPIC_ORDER, [
        { partition: 1, value: instructions(`p1-${i}`) },
        { partition: 2, value: instructions(`p2-${i}`) },
      ]);
    }
    const others = Array.from({ length: 6 }, (_, i) => [`p1-${i}`, `p2-${i}`]).flat();
    await waitForFinished('ordered', [...others, 'slow', 'p0-after']);

    const entries = report.entries('ordered');
    const endOf = (id: string) => entries.findIndex((e) => e.phase === 'end' && ids(e).includes(id));
    // every record of partitions 1 and 2 was done while the slow batch of partition 0 still ran
    for (const id of others) expect(endOf(id)).toBeLessThan(endOf('slow'));

    for (const partition of [0, 1, 2]) {
      const mine = entries.filter((e) => e.records[0]!.partition === partition);
      // start, end, start, end...: never two batches of one partition in flight
      expect(mine.map((e) => e.phase)).toEqual(mine.map((_, i) => (i % 2 === 0 ? 'start' : 'end')));
      const offsets = mine.filter((e) => e.phase === 'start').flatMap((e) => e.records.map((r) => r.offset));
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    }
  });
});

describe('consumer groups and starting positions', () => {
  it('two functions on one topic each get every record; consumerGroupId is used, else a stable derived id', async () => {
    await produce(
      topics.TOPIC_RESUME,
      ['g1', 'g2', 'g3'].map((id) => ({ value: instructions(id) })),
    );
    await waitForFinished('resumer', ['g1', 'g2', 'g3']);
    await waitForFinished('derived', ['g1', 'g2', 'g3']);
    await waitForCommit(GROUP_RESUME, topics.TOPIC_RESUME, '3', 'consumerGroupId to hold the commit');
    await waitForCommit(derivedGroup, topics.TOPIC_RESUME, '3', 'the derived group to hold the commit');
  });

  it('LATEST skips what was there before the first start; AT_TIMESTAMP starts at the timestamp', async () => {
    await produce(topics.TOPIC_LATEST, [{ value: instructions('after-start') }]);
    await waitForFinished('latest', ['after-start']);
    await waitForFinished('atTimestamp', ['ts-new']);
    expect(idsOf('latest')).toEqual(['after-start']);
    expect(idsOf('atTimestamp')).toEqual(['ts-new']);
  });
});

describe('restarts', () => {
  it('Ctrl-C leaves the groups cleanly; a restart resumes where it stopped, without replay or skip', async () => {
    const code = await offline.stop();
    expect(code).toBe(0);
    expect(offline.output()).toMatch(/kafka: consumers stopped, groups left/);
    expect(offline.output()).not.toMatch(/UnhandledPromiseRejection|unhandled rejection/i);
    const [described] = await withAdmin(async (admin) => (await admin.describeGroups([GROUP_RESUME])).groups);
    expect(described!.members).toHaveLength(0);

    // while it is down: a group with commits (even LATEST) must deliver exactly these next time
    await produce(
      topics.TOPIC_RESUME,
      ['g4', 'g5'].map((id) => ({ value: instructions(id) })),
    );
    await produce(topics.TOPIC_LATEST, [{ value: instructions('while-down') }]);
    offline = await startFixture('delivery.yml', env());
    await waitForFinished('resumer', ['g4', 'g5']);
    await waitForFinished('derived', ['g4', 'g5']);
    await waitForFinished('latest', ['while-down']);
    expect(idsOf('resumer')).toEqual(['g1', 'g2', 'g3', 'g4', 'g5']);
    expect(idsOf('derived')).toEqual(['g1', 'g2', 'g3', 'g4', 'g5']);
    expect(idsOf('latest')).toEqual(['after-start', 'while-down']);
  });

  it('no record is lost when the process is SIGKILLed mid-batch and started again', async () => {
    const all = Array.from({ length: 16 }, (_, i) => `k${i}`);
    // the first attempt of every record is slow, so the kill lands while batches are in flight
    await produce(
      topics.TOPIC_KILL,
      all.map((id, i) => ({ partition: i % 2, value: instructions(id, { sleepMs: 1500, sleepTimes: 1 }) })),
    );
    await waitFor(() => starts(report.entries(), 'killme').length > 0, { what: 'a batch of killme to start' });
    await offline.kill();
    const finishedBeforeKill = finishedIds(report.entries(), 'killme');
    expect(finishedBeforeKill.size).toBeLessThan(all.length);

    offline = await startFixture('delivery.yml', env());
    await waitForFinished('killme', all, 90_000);
    const group = `es-delivery-local-killme-${topics.TOPIC_KILL}`;
    await waitFor(
      async () => {
        const offsets = await committedOffsets(group, topics.TOPIC_KILL);
        return offsets.get(0) === '8' && offsets.get(1) === '8';
      },
      { what: 'every record of killme to be committed' },
    );
  });
});
