import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { uniqueName } from '../../helpers/kafka';
import { startOffline, type OfflineProcess } from '../../helpers/offline';
import type { TestProcess } from '../../helpers/process';
import { ROOT, interopTopics, postQuote, quoteLoad, resultOf, startService } from './interop';

const SPRING_DIR = resolve(ROOT, 'test', 'interop', 'spring');
/** Maven's downloads stay in the project's cache folder: a fresh clone downloads them itself */
const MAVEN_REPO = resolve(ROOT, '.cache', 'm2');
const COUNT = 300;
const CONCURRENCY = 16;

/** Build the Spring application (test/interop/spring) with Maven; returns the java class path. */
async function buildSpring(): Promise<string> {
  const started = Date.now();
  await promisify(execFile)(
    'mvn',
    [
      '-B',
      '-q',
      `-Dmaven.repo.local=${MAVEN_REPO}`,
      'compile',
      'dependency:build-classpath',
      '-Dmdep.outputFile=target/classpath.txt',
    ],
    { cwd: SPRING_DIR, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 },
  );
  console.info(`[spring] mvn compile + class path in ${Date.now() - started} ms`);
  return `${resolve(SPRING_DIR, 'target', 'classes')}:${readFileSync(resolve(SPRING_DIR, 'target', 'classpath.txt'), 'utf8').trim()}`;
}

/**
 * A plain Spring for Apache Kafka application (spring-kafka 3.3, no Spring Boot; test/interop/spring) on
 * both sides of request-reply: a ReplyingKafkaTemplate calling `price-quote` through the local event
 * source, and POST /quotes answered by a @KafkaListener with @SendTo, through serverless offline.
 */
describe('request-reply with Spring Kafka services', () => {
  let classPath: string;
  let offline: OfflineProcess;
  let responder: TestProcess;
  let topics: Awaited<ReturnType<typeof interopTopics>>;
  const startSpring = (mode: 'responder' | 'requester', env: Record<string, string>) =>
    startService(
      `the Spring ${mode}`,
      'java',
      // the Kafka clients log their whole configuration at INFO: only warnings and errors
      ['-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', '-cp', classPath, 'interop.SpringInterop', mode],
      env,
      {
        timeoutMs: 90_000,
      },
    );

  beforeAll(async () => {
    classPath = await buildSpring();
    // spring-quotes: the Spring responder's request topic; spring-replies: the Spring requester's reply topic
    topics = await interopTopics(
      'spring',
      { QUOTE_REPLY_TOPIC: 'spring-quote-replies' },
      { 'spring-quotes': 6, 'spring-replies': 1 },
    );
    responder = await startSpring('responder', {
      REQUEST_TOPIC: `${topics.prefix}spring-quotes`,
      GROUP_ID: uniqueName('spring-responder'),
    });
    offline = await startOffline({
      env: {
        KAFKA_TOPIC_PREFIX: topics.prefix,
        LOG_LEVEL: 'warn',
        QUOTE_REQUEST_TOPIC: 'spring-quotes',
        QUOTE_REPLY_TOPIC: 'spring-quote-replies',
        QUOTE_REPLY_TOPICS_ALLOWED: 'spring-replies',
        // 16 cold function instances start at once on 2 cores: leave the first requests time
        REPLY_TIMEOUT_MS: '8000',
      },
      readyPattern: /kafka: ready: /,
      timeoutMs: 120_000,
    });
  }, 420_000);

  afterAll(async () => {
    await offline?.stop();
    await responder?.stop(10_000, 'SIGTERM');
    await topics?.cleanup();
  });

  test(`a Spring ReplyingKafkaTemplate calls price-quote: ${COUNT} requests, ${CONCURRENCY} at a time, each answered with its own quote; a refused quote fails its future`, async () => {
    const requester = await startSpring('requester', {
      REQUEST_TOPIC: `${topics.prefix}quote-requests`,
      REPLY_TOPIC: `${topics.prefix}spring-replies`,
      GROUP_ID: uniqueName('spring-requester'),
      COUNT: String(COUNT),
      CONCURRENCY: String(CONCURRENCY),
      ERROR_PRODUCT_ID: 'discontinued-spring',
    });
    const result = await resultOf(requester, 180_000);
    console.info(`[spring → price-quote] ${JSON.stringify({ ...result, samples: undefined, errorReply: undefined })}`);
    expect(result).toMatchObject({ sent: COUNT, replies: COUNT, mismatches: 0, timeouts: 0, errors: 0, samples: [] });
    // the 422 reply, read by the template's replyErrorChecker from x-reply-status
    expect(result.errorReply).toEqual({
      exception: 'java.lang.IllegalStateException',
      message: expect.stringMatching(/^status 422: \{"error":\{"code":"PRODUCT_DISCONTINUED"/),
    });
  }, 240_000);

  test(`POST /quotes answered by a Spring @KafkaListener/@SendTo responder: ${COUNT} requests, ${CONCURRENCY} at a time`, async () => {
    const counts = await quoteLoad(offline, {
      count: COUNT,
      concurrency: CONCURRENCY,
      label: 'spring',
      matches: (body, request) =>
        body.productId === request.productId && body.quantity === request.quantity && body.by === 'spring',
    });
    console.info(`[POST /quotes → spring] ${JSON.stringify({ ...counts, samples: undefined })}`);
    expect(counts).toMatchObject({
      replies: COUNT,
      mismatches: 0,
      timeouts: 0,
      errors: 0,
      withoutKafkaId: 0,
      samples: [],
    });
  }, 240_000);

  test('POST /quotes: the Spring listener’s exception (KafkaHeaders.EXCEPTION_*) becomes a 502 naming it and the Kafka request', async () => {
    const response = await postQuote(
      offline,
      { productId: 'out-of-stock-7', quantity: 1 },
      { 'x-correlation-id': 'spring-err-1' },
    );
    expect(response.status).toBe(502);
    const kafkaId = response.headers.get('x-kafka-correlation-id');
    expect(kafkaId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await response.json()).toEqual({
      error: {
        code: 'BAD_REPLY',
        message: 'the responder reported an error (Spring kafka_exception headers)',
        details: {
          kafkaCorrelationId: kafkaId,
          responderError: { exception: 'java.lang.IllegalStateException', message: 'out-of-stock-7 is out of stock' },
        },
        correlationId: 'spring-err-1',
      },
    });
  });
});
