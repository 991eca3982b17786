import type { Admin } from 'kafkajs';
import { createTopics, waitForTopicLeaders } from '../src/topics';

/** An admin whose metadata answers come from `answers`, one per call (the last one repeats). */
function adminAnswering(
  answers: Array<Error | Array<{ name: string; leaders: number[] }>>,
  created: Error | undefined = undefined,
) {
  let calls = 0;
  const admin = {
    createTopics: jest.fn(async () => {
      if (created) throw created;
      return true;
    }),
    fetchTopicMetadata: jest.fn(async () => {
      const answer = answers[Math.min(calls, answers.length - 1)]!;
      calls += 1;
      if (answer instanceof Error) throw answer;
      return {
        topics: answer.map((t) => ({
          name: t.name,
          partitions: t.leaders.map((leader, partitionId) => ({ partitionId, leader })),
        })),
      };
    }),
  };
  return admin as unknown as Admin & { fetchTopicMetadata: jest.Mock; createTopics: jest.Mock };
}

const unknownTopic = Object.assign(new Error('This server does not host this topic-partition'), {
  type: 'UNKNOWN_TOPIC_OR_PARTITION',
});

describe('waitForTopicLeaders', () => {
  it('waits through "unknown topic" and leaderless partitions of a topic the broker is still creating', async () => {
    const admin = adminAnswering([
      unknownTopic,
      [{ name: 'orders', leaders: [1, -1] }],
      [{ name: 'orders', leaders: [1, 1] }],
    ]);
    await waitForTopicLeaders(admin, ['orders'], 5_000);
    expect(admin.fetchTopicMetadata).toHaveBeenCalledTimes(3);
  });

  it('gives up with the topic names after the timeout', async () => {
    const admin = adminAnswering([unknownTopic]);
    await expect(waitForTopicLeaders(admin, ['orders', 'quotes'], 200)).rejects.toThrow(
      /orders, quotes still have partitions without a leader after 200 ms/,
    );
  });

  it('other errors are not waited out', async () => {
    const admin = adminAnswering([Object.assign(new Error('denied'), { type: 'TOPIC_AUTHORIZATION_FAILED' })]);
    await expect(waitForTopicLeaders(admin, ['orders'], 5_000)).rejects.toThrow('denied');
    expect(admin.fetchTopicMetadata).toHaveBeenCalledTimes(1);
  });
});

describe('createTopics', () => {
  it("creates without kafkajs's own wait, then waits for every partition's leader", async () => {
    const admin = adminAnswering([unknownTopic, [{ name: 'orders', leaders: [1, 1] }]]);
    await createTopics(admin, [{ topic: 'orders', numPartitions: 2 }], { timeoutMs: 5_000 });
    expect(admin.createTopics).toHaveBeenCalledWith({
      topics: [{ topic: 'orders', numPartitions: 2 }],
      waitForLeaders: false,
    });
    expect(admin.fetchTopicMetadata).toHaveBeenCalledTimes(2);
  });

  it('takes a topic another process created meanwhile; other refusals are thrown', async () => {
    const exists = Object.assign(new Error('exists'), { type: 'TOPIC_ALREADY_EXISTS' });
    await createTopics(adminAnswering([[{ name: 'orders', leaders: [1] }]], exists), [
      { topic: 'orders', numPartitions: 1 },
    ]);
    const denied = Object.assign(new Error('denied'), { type: 'TOPIC_AUTHORIZATION_FAILED' });
    const admin = adminAnswering([[{ name: 'orders', leaders: [1] }]], denied);
    await expect(createTopics(admin, [{ topic: 'orders', numPartitions: 1 }])).rejects.toThrow('denied');
    expect(admin.fetchTopicMetadata).not.toHaveBeenCalled();
  });
});
