import { ConfigError } from '../../lib/errors';
import { createRuntime, resolveTopics } from '../../lib/runtime';
import { createLogger } from '../../lib/logger';

const env = { KAFKA_BROKERS: '127.0.0.1:1', LOG_LEVEL: 'silent' };

describe('runtime', () => {
  it('resolves every topic under its real name: the prefix applied, the quote topics as configured', () => {
    const { topics, topic, config } = createRuntime({
      env: {
        ...env,
        KAFKA_TOPIC_PREFIX: 'alice-',
        QUOTE_REPLY_TOPIC: 'quotes.replies',
        REPLY_TOPICS_ALLOWED: 'quotes.replies, other-replies',
      },
    });
    expect(topics).toEqual({
      orders: 'alice-orders',
      orderEvents: 'alice-order-events',
      orderAudit: 'alice-order-audit',
      customerNotifications: 'alice-customer-notifications',
      orderAnalytics: 'alice-order-analytics',
      revenueLedger: 'alice-revenue-ledger',
      deadLetter: 'alice-dead-letter',
      quoteRequests: 'alice-quote-requests',
      quoteReplies: 'alice-quotes.replies',
      allowedReplyTopics: ['alice-quotes.replies', 'alice-other-replies'],
    });
    expect(topic('shipments')).toBe('alice-shipments');
    expect(resolveTopics(config)).toEqual(topics);
  });

  it('has no prefix by default', () => {
    expect(createRuntime({ env }).topics).toMatchObject({ orders: 'orders', deadLetter: 'dead-letter' });
  });

  it('keeps ONE requester per reply topic', () => {
    const rt = createRuntime({ env, logger: createLogger({ level: 'silent' }) });
    const a = rt.requester('quote-replies');
    expect(rt.requester('quote-replies')).toBe(a);
    expect(rt.requester('other-replies')).not.toBe(a);
  });

  it('refuses a broken configuration, naming every problem', () => {
    const error = (() => {
      try {
        createRuntime({ env: { KAFKA_BROKERS: 'no port', PUBLISH_TIMEOUT_MS: 'soon' } });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.problems.join('\n')).toMatch(/KAFKA_BROKERS/);
    expect(error.problems.join('\n')).toMatch(/PUBLISH_TIMEOUT_MS/);
  });

  it('uses the parts it is given instead of building them', () => {
    const publisher = { publish: jest.fn(), disconnect: jest.fn() };
    expect(createRuntime({ env, publisher }).publisher).toBe(publisher);
  });
});
