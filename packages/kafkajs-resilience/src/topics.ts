import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, ITopicConfig } from 'kafkajs';

/**
 * Wait until every partition of the topics has a leader. kafkajs's own `waitForLeaders` gives up as
 * soon as the broker answers UNKNOWN_TOPIC_OR_PARTITION for a topic it has just created (KRaft publishes
 * a new topic to the broker's metadata a moment later), which on a busy machine fails a start or a test.
 *
 * @example
 * await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 6 }], waitForLeaders: false });
 * await waitForTopicLeaders(admin, ['orders']);
 */
export async function waitForTopicLeaders(admin: Admin, names: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let wait = 50; ; wait = Math.min(wait * 2, 1000)) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: names });
      const ready = (name: string) => {
        const partitions = topics.find((t) => t.name === name)?.partitions ?? [];
        return partitions.length > 0 && partitions.every((p) => p.leader >= 0);
      };
      if (names.every(ready)) return;
    } catch (error) {
      const type = (error as { type?: string }).type;
      if (type !== 'UNKNOWN_TOPIC_OR_PARTITION' && type !== 'LEADER_NOT_AVAILABLE') throw error;
    }
    if (Date.now() + wait > deadline) {
      throw new Error(`the topics ${names.join(', ')} still have partitions without a leader after ${timeoutMs} ms`);
    }
    await sleep(wait);
  }
}

/**
 * Create topics and wait until every partition has a leader (waitForTopicLeaders), so the next produce
 * or consumer join finds them. A topic that exists already (another process created it in between) is
 * not an error.
 *
 * @example
 * await createTopics(admin, [{ topic: 'orders', numPartitions: 6 }]);
 */
export async function createTopics(
  admin: Admin,
  topics: ITopicConfig[],
  options: { timeoutMs?: number } = {},
): Promise<void> {
  if (topics.length === 0) return;
  try {
    await admin.createTopics({ topics, waitForLeaders: false });
  } catch (error) {
    if ((error as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw error;
  }
  await waitForTopicLeaders(
    admin,
    topics.map((t) => t.topic),
    options.timeoutMs,
  );
}
