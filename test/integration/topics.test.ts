import { ensureTopics } from '../../lib/kafka/topics';
import { createLogger } from '../../lib/logger';
import { deleteTopics, uniqueName, withAdmin } from '../helpers/kafka';

describe('ensureTopics against the real broker', () => {
  const a = uniqueName('topics-a');
  const b = uniqueName('topics-b');
  afterAll(() => deleteTopics([a, b]));

  it('creates the declared topics with their partitions and config, and is idempotent', async () => {
    const declared = [
      { name: a, partitions: 3, config: { 'retention.ms': '3600000' } },
      { name: b, partitions: 1 },
    ];
    const logger = createLogger({ level: 'silent' });
    const first = await withAdmin((admin) => ensureTopics(admin, declared, logger));
    expect(first).toEqual({ created: [a, b], existing: [] });
    const second = await withAdmin((admin) => ensureTopics(admin, declared, logger));
    expect(second).toEqual({ created: [], existing: [a, b] });

    const metadata = await withAdmin((admin) => admin.fetchTopicMetadata({ topics: [a, b] }));
    expect(metadata.topics.find((t) => t.name === a)?.partitions).toHaveLength(3);
    const configs = await withAdmin((admin) =>
      admin.describeConfigs({
        resources: [{ type: 2, name: a, configNames: ['retention.ms'] }],
        includeSynonyms: false,
      }),
    );
    expect(configs.resources[0]?.configEntries[0]?.configValue).toBe('3600000');
  });

  it('warns, and changes nothing, when a topic has fewer partitions than declared', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn' });
    logger.warn = ((obj: object, msg: string) =>
      void lines.push(`${msg} ${JSON.stringify(obj)}`)) as unknown as typeof logger.warn;
    await withAdmin((admin) => ensureTopics(admin, [{ name: b, partitions: 4 }], logger));
    expect(lines.join('\n')).toMatch(/fewer partitions than declared.*"declared":4,"actual":1/);
    const metadata = await withAdmin((admin) => admin.fetchTopicMetadata({ topics: [b] }));
    expect(metadata.topics[0]?.partitions).toHaveLength(1);
  });
});
