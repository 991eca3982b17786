import { TOPICS, declaredTopics } from '../../lib/kafka/topics';

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
