import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as kafkajs from 'kafkajs';
import { Kafka, logLevel } from 'kafkajs';
import { brokerRefusal, isBrokerUnreachable, kafkajsLogKind } from '../src/unreachable';

/** kafkajs's own error classes, built as kafkajs builds them (its type declarations leave some out). */
const kafkajsError = (name: string, ...args: unknown[]): Error =>
  new (kafkajs as unknown as Record<string, new (...a: unknown[]) => Error>)[name]!(...args);

/** A kafkajs protocol error as kafkajs builds it from a broker's error code (protocol/error.js). */
const protocolError = (type: string, retriable: boolean) =>
  kafkajsError('KafkaJSProtocolError', { type, message: `broker said ${type}`, retriable });

describe('isBrokerUnreachable', () => {
  it('is true for kafkajs errors of a connection or a broker, and for protocol codes of a cluster that cannot serve', () => {
    const errors = [
      kafkajsError('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092'),
      kafkajsError('KafkaJSConnectionClosedError', 'Closed connection', { host: '127.0.0.1', port: 9092 }),
      kafkajsError('KafkaJSRequestTimeoutError', 'Request Produce(key: 0, version: 7) timed out'),
      kafkajsError('KafkaJSBrokerNotFound', 'Broker 1 not found in the cached metadata'),
      kafkajsError('KafkaJSLockTimeout', 'Timeout while acquiring lock'),
      protocolError('LEADER_NOT_AVAILABLE', true),
      protocolError('NOT_COORDINATOR_FOR_GROUP', true),
      protocolError('GROUP_COORDINATOR_NOT_AVAILABLE', true),
      protocolError('REQUEST_TIMED_OUT', true),
    ];
    expect(errors.filter((e) => !isBrokerUnreachable(e)).map((e) => e.message)).toEqual([]);
  });

  it("reads Node's socket codes, the unreachable mark of a service's own errors, and what wrappers wrap", () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { code: 'ECONNREFUSED' });
    const retries = kafkajsError('KafkaJSNumberOfRetriesExceeded', kafkajsError('KafkaJSConnectionError', 'timeout'), {
      retryCount: 5,
      retryTime: 3000,
    });
    const deadline = Object.assign(new Error('the Kafka broker did not acknowledge within 3000 ms'), {
      unreachable: true,
    });
    // as kafkajs's retrier gives up (retry/index.js)
    const gaveUp = kafkajsError('KafkaJSNonRetriableError', retries, { cause: retries });
    const wrapped = new Error('publishing to Kafka failed', { cause: gaveUp });
    expect([refused, retries, deadline, wrapped].map((e) => isBrokerUnreachable(e))).toEqual([true, true, true, true]);
  });

  it('is false for a refusal of the request, whatever its wording', () => {
    const errors = [
      protocolError('UNKNOWN_TOPIC_OR_PARTITION', true),
      protocolError('MESSAGE_TOO_LARGE', false),
      protocolError('TOPIC_AUTHORIZATION_FAILED', false),
      kafkajsError('KafkaJSSASLAuthenticationError', 'SASL SCRAM SHA512 authentication failed: wrong password'),
      kafkajsError('KafkaJSError', 'Connection error in the request body'),
      new Error('the broker is unreachable'),
      Object.assign(new Error('publishing failed'), { unreachable: false, cause: new Error('not connected') }),
      'Connection error: connect ECONNREFUSED',
      undefined,
    ];
    expect(errors.filter((e) => isBrokerUnreachable(e))).toEqual([]);
  });

  it('is true for what kafkajs throws when nothing listens at the address', async () => {
    const kafka = new Kafka({
      brokers: ['127.0.0.1:1'],
      connectionTimeout: 1000,
      retry: { retries: 1, initialRetryTime: 50 },
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer();
    const error = await producer.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    await producer.disconnect().catch(() => undefined);
    expect(error).toBeDefined();
    expect(isBrokerUnreachable(error)).toBe(true);
  });
});

describe('kafkajsLogKind', () => {
  it("tells kafkajs's lines about an unreachable broker and a consumer's crash from the rest", () => {
    const kinds = [
      { namespace: 'Connection', message: 'Connection error: connect ECONNREFUSED 127.0.0.1:9092' },
      { namespace: 'Connection', message: 'Connection timeout' },
      { namespace: 'BrokerPool', message: 'Failed to connect to seed broker, trying another broker from the list: x' },
      { namespace: 'BrokerPool', message: 'Closed connection' },
      { namespace: 'BrokerPool', message: 'Request ApiVersions(key: 18, version: 2) timed out' },
      { namespace: 'Consumer', message: 'Crash: KafkaJSNumberOfRetriesExceeded: Connection error: x' },
      { namespace: 'Consumer', message: 'Restarting the consumer in 300ms' },
      { namespace: 'BrokerPool', message: 'SASL SCRAM SHA512 authentication failed: wrong password', retryCount: 0 },
      { namespace: 'BrokerPool', message: 'SASL SCRAM SHA256 authentication: Invalid username or password' },
      { namespace: 'SaslAuthenticator-SCRAM-SHA-512', message: 'SASL SCRAM SHA512 authentication failed: bad' },
      { namespace: 'BrokerPool', message: 'SASL AWS-IAM authentication failed: expired' },
      { namespace: 'Connection', message: 'Response SaslAuthenticate(key: 36, version: 1)' },
      { namespace: 'Producer', message: 'Failed to send messages: There is no leader', retryCount: 2 },
      { namespace: 'Admin', message: 'Could not create topics', retryCount: 0 },
      { namespace: 'Connection', message: 'Response Produce(key: 0, version: 7)' },
      { namespace: 'Runner', message: 'The group is rebalancing, re-joining' },
      { namespace: undefined, message: 'KafkaJS v2.0.0 switched default partitioner.' },
    ].map(kafkajsLogKind);
    expect(kinds).toEqual([
      ...['unreachable', 'unreachable', 'unreachable', 'unreachable', 'unreachable'],
      ...['crash', 'crash'],
      ...['refused', 'refused', 'refused', 'refused', 'refused'],
      ...['attempt', 'attempt', 'attempt', 'other', 'other'],
    ]);
  });

  it('reads wordings that kafkajs 2.2.4 writes, in the files that write them', () => {
    const src = join(dirname(require.resolve('kafkajs/package.json')), 'src');
    const read = (file: string) => readFileSync(join(src, file), 'utf8');
    expect(read('network/connection.js')).toContain('new KafkaJSConnectionError(`Connection error: ${e.message}`');
    expect(read('network/connection.js')).toContain("new KafkaJSConnectionError('Connection timeout'");
    expect(read('cluster/brokerPool.js')).toContain(
      '`Failed to connect to seed broker, trying another broker from the list',
    );
    // brokerPool.js logs the message of any other error it meets on connecting, these two among them
    expect(read('cluster/brokerPool.js')).toContain('this.logger.error(e.message, { retryCount, retryTime })');
    expect(read('network/connection.js')).toContain("new KafkaJSConnectionClosedError('Closed connection'");
    expect(read('network/requestQueue/socketRequest.js')).toContain(
      'new KafkaJSRequestTimeoutError(`Request ${requestInfo} timed out`',
    );
    expect(read('consumer/index.js')).toContain('logger.error(`Crash: ${e.name}: ${e.message}`');
    expect(read('consumer/index.js')).toContain('logger.error(`Restarting the consumer in ${retryTime}ms`');
    // refused authentications: the authenticators' messages, logged by brokerPool.js (above) and connection.js
    expect(read('broker/saslAuthenticator/scram.js')).toContain(
      'this.PREFIX = `SASL SCRAM ${digestType} authentication`',
    );
    expect(read('broker/saslAuthenticator/scram.js')).toContain('`${PREFIX} failed: ${e.message}`');
    expect(read('broker/saslAuthenticator/plain.js')).toContain('`SASL PLAIN authentication failed: ${e.message}`');
    expect(read('broker/saslAuthenticator/scram.js')).toContain('this.logger.error(error.message, { broker })');
    expect(read('broker/saslAuthenticator/index.js')).toContain(
      'this.logger.namespace(`SaslAuthenticator-${mechanism}`)',
    );
    expect(read('network/connection.js')).toContain('this.logError(`Response ${requestInfo(entry)}`');
    // a failed request: logged, then thrown to the caller
    expect(read('network/connection.js')).toMatch(
      /this\.logError\(`Response \$\{requestInfo\(entry\)\}`[^]*?throw e\n/,
    );
    // kafkajs's root logger (no namespace) warns of its partitioner
    expect(read('index.js')).toMatch(/logger\.warn\(\s*`KafkaJS v2\.0\.0 switched default partitioner/);
    // failed attempts of retried operations carry retryCount
    expect(read('producer/sendMessages.js')).toContain(
      'logger.error(`Failed to send messages: ${e.message}`, { retryCount, retryTime })',
    );
  });
});

describe('brokerRefusal', () => {
  it('tells refused credentials and an untrusted certificate, through wrappers, with the message that says it', () => {
    const sasl = kafkajsError('KafkaJSSASLAuthenticationError', 'SASL SCRAM SHA512 authentication failed: bad');
    const retries = kafkajsError('KafkaJSNumberOfRetriesExceeded', sasl, { retryCount: 0, retryTime: 300 });
    // as kafkajs's connection.js builds it: Node's verification code copied onto its own error
    const untrusted = kafkajsError(
      'KafkaJSConnectionError',
      'Connection error: self-signed certificate in certificate chain',
      {
        broker: '127.0.0.1:9096',
        code: 'SELF_SIGNED_CERT_IN_CHAIN',
      },
    );
    // what a broker requiring a client certificate answers a certificate its CA did not sign (TLS alert 46)
    const notAccepted = kafkajsError(
      'KafkaJSConnectionError',
      'Connection error: … sslv3 alert certificate unknown …',
      {
        code: 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
      },
    );
    expect(
      [sasl, new Error('publishing failed', { cause: retries }), untrusted, notAccepted].map(brokerRefusal),
    ).toEqual([
      { kind: 'credentials', message: 'SASL SCRAM SHA512 authentication failed: bad' },
      { kind: 'credentials', message: 'SASL SCRAM SHA512 authentication failed: bad' },
      { kind: 'certificate', message: 'Connection error: self-signed certificate in certificate chain' },
      { kind: 'client-certificate', message: 'Connection error: … sslv3 alert certificate unknown …' },
    ]);
  });

  it('is undefined for an unreachable broker and for a refusal of the request', () => {
    const errors = [
      kafkajsError('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED', { code: 'ECONNREFUSED' }),
      protocolError('TOPIC_AUTHORIZATION_FAILED', false),
      undefined,
    ];
    expect(errors.map(brokerRefusal)).toEqual([undefined, undefined, undefined]);
  });
});
