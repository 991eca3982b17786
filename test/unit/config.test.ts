import { loadConfig } from '../../lib/config';
import { ConfigError } from '../../lib/errors';

describe('loadConfig', () => {
  it('applies defaults when only the brokers are given', () => {
    const config = loadConfig({ KAFKA_BROKERS: '127.0.0.1:9092' });
    expect(config.kafka).toMatchObject({
      brokers: ['127.0.0.1:9092'],
      clientId: 'kafka-serverless',
      auth: 'none',
      ssl: false,
      connectionTimeoutMs: 1000,
      requestTimeoutMs: 5000,
    });
    expect(config.publishTimeoutMs).toBe(5000);
    expect(config.maxBodyBytes).toBe(65536);
    expect(config.logLevel).toBe('info');
  });

  it('POST /quotes topics: today’s names by default, another service’s topics when set, and a bad name refused', () => {
    expect(loadConfig({ KAFKA_BROKERS: '127.0.0.1:9092' }).quotes).toEqual({
      requestTopic: 'quote-requests',
      replyTopic: 'quote-replies',
      replyPartitionFormat: 'int32',
    });
    expect(
      loadConfig({
        KAFKA_BROKERS: '127.0.0.1:9092',
        QUOTE_REQUEST_TOPIC: 'pricing.requests',
        QUOTE_REPLY_TOPIC: 'web_replies',
      }).quotes,
    ).toMatchObject({ requestTopic: 'pricing.requests', replyTopic: 'web_replies' });
    expect(
      loadConfig({ KAFKA_BROKERS: '127.0.0.1:9092', QUOTE_REPLY_PARTITION_FORMAT: 'decimal' }).quotes
        .replyPartitionFormat,
    ).toBe('decimal');
    expect(() => loadConfig({ KAFKA_BROKERS: '127.0.0.1:9092', QUOTE_REPLY_PARTITION_FORMAT: 'text' })).toThrow(
      /QUOTE_REPLY_PARTITION_FORMAT must be one of int32, decimal/,
    );
    expect(() =>
      loadConfig({ KAFKA_BROKERS: '127.0.0.1:9092', QUOTE_REQUEST_TOPIC: 'a b', QUOTE_REPLY_TOPIC: '..' }),
    ).toThrow(/QUOTE_REQUEST_TOPIC must be a Kafka topic name[\s\S]*QUOTE_REPLY_TOPIC must be a Kafka topic name/);
  });

  it('splits and trims a broker list', () => {
    expect(loadConfig({ KAFKA_BROKERS: 'b-1.example:9092, b-2.example:9092' }).kafka.brokers).toEqual([
      'b-1.example:9092',
      'b-2.example:9092',
    ]);
  });

  it('reports every problem at once, each naming its variable', () => {
    let error: unknown;
    try {
      loadConfig({ KAFKA_AUTH: 'kerberos', LOG_LEVEL: 'loud', PUBLISH_TIMEOUT_MS: 'soon', KAFKA_SSL: 'maybe' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['KAFKA_BROKERS', 'KAFKA_AUTH', 'LOG_LEVEL', 'PUBLISH_TIMEOUT_MS', 'KAFKA_SSL']) {
      expect(problems).toContain(name);
    }
    expect((error as ConfigError).problems).toHaveLength(5);
  });

  it('rejects a broker list that is not host:port', () => {
    expect(() => loadConfig({ KAFKA_BROKERS: 'localhost' })).toThrow(
      /KAFKA_BROKERS must be a comma-separated host:port/,
    );
  });

  it('requires SCRAM credentials when KAFKA_AUTH=scram, and reads them when given', () => {
    expect(() => loadConfig({ KAFKA_BROKERS: 'b:9096', KAFKA_AUTH: 'scram' })).toThrow(
      /KAFKA_SASL_USERNAME is required when KAFKA_AUTH=scram[\s\S]*KAFKA_SASL_PASSWORD is required/,
    );
    const config = loadConfig({
      KAFKA_BROKERS: 'b:9096',
      KAFKA_AUTH: 'scram',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: 'p',
    });
    expect(config.kafka.sasl).toEqual({ username: 'u', password: 'p' });
  });

  it('treats empty strings as unset, as a shell user expects', () => {
    expect(loadConfig({ KAFKA_BROKERS: 'b:9092', LOG_LEVEL: '' }).logLevel).toBe('info');
  });

  it('rejects timeouts out of range', () => {
    expect(() => loadConfig({ KAFKA_BROKERS: 'b:9092', PUBLISH_TIMEOUT_MS: '60000' })).toThrow(
      /PUBLISH_TIMEOUT_MS must be a whole number from 100 to 28000/,
    );
  });
});
