import type { Admin } from 'kafkajs';
import { waitForTopicLeaders } from 'kafkajs-resilience';
import { TOPICS, declaredTopics } from '../../lib/kafka/topics';

/** An admin whose metadata answers come from `answers`, one per call (the last one repeats). */
function adminAnswering(answers: Array<Error | Array<{ name: string; leaders: number[] }>>) {
  let calls = 0;
  const admin = {
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
  return admin as unknown as Admin & { fetchTopicMetadata: jest.Mock };
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

describe('declaredTopics', () => {
  it('creates the configured POST /quotes reply topic like quote-replies, prefixed like every other', () => {
    const topics = declaredTopics({ topicPrefix: 'dev-', quotes: { replyTopic: 'web.quote-replies' } });
    const declaredReplies = TOPICS.find((t) => t.name === 'quote-replies')!;
    expect(topics.find((t) => t.name === 'dev-web.quote-replies')).toEqual({
      ...declaredReplies,
      name: 'dev-web.quote-replies',
    });
    expect(topics.map((t) => t.name)).not.toContain('dev-quote-replies');
    expect(topics.map((t) => t.name)).toContain('dev-quote-requests');
    expect(topics).toHaveLength(TOPICS.length);
  });
});
