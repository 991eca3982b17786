import { resolve } from 'node:path';
import { uniqueName } from '../../helpers/kafka';
import { startOffline, type OfflineProcess } from '../../helpers/offline';
import type { TestProcess } from '../../helpers/process';
import { ROOT, interopTopics, postQuote, quoteLoad, resultOf, startService } from './interop';

const NEST_APP = resolve(ROOT, 'test', 'interop', 'nestjs', 'app.mts');
const COUNT = 300;
const CONCURRENCY = 16;

/** The NestJS service of test/interop/nestjs/app.mts in its own process (tsx). */
const startNest = (mode: 'responder' | 'requester', env: Record<string, string>) =>
  startService(`the NestJS ${mode}`, process.execPath, ['--import', 'tsx', NEST_APP, mode], env);

/**
 * Real NestJS services (@nestjs/microservices, Kafka transport) on both sides of request-reply:
 * a NestJS ClientKafka calling `price-quote` through the local event source, and POST /quotes answered
 * by a NestJS @MessagePattern responder, both through serverless offline on the real broker.
 */
describe('request-reply with NestJS services', () => {
  let offline: OfflineProcess;
  let responder: TestProcess;
  let topics: Awaited<ReturnType<typeof interopTopics>>;

  beforeAll(async () => {
    // nest-quotes: the NestJS responder's request topic; quote-requests.reply: the reply topic a NestJS
    // ClientKafka reads for the pattern quote-requests (its `<pattern>.reply` convention)
    topics = await interopTopics(
      'nest',
      { QUOTE_REPLY_TOPIC: 'nest-quote-replies' },
      { 'nest-quotes': 6, 'quote-requests.reply': 3 },
    );
    responder = await startNest('responder', {
      REQUEST_TOPIC: `${topics.prefix}nest-quotes`,
      GROUP_ID: uniqueName('nest-responder'),
    });
    offline = await startOffline({
      env: {
        KAFKA_TOPIC_PREFIX: topics.prefix,
        LOG_LEVEL: 'warn',
        // POST /quotes asks the NestJS responder, and reads replies from a topic of its own
        QUOTE_REQUEST_TOPIC: 'nest-quotes',
        QUOTE_REPLY_TOPIC: 'nest-quote-replies',
        // NestJS's ServerKafka reads kafka_replyPartition as text (parseFloat), not as Spring's 4-byte int
        QUOTE_REPLY_PARTITION_FORMAT: 'decimal',
        // price-quote may answer the NestJS ClientKafka
        QUOTE_REPLY_TOPICS_ALLOWED: 'quote-requests.reply',
        // 16 cold function instances start at once on 2 cores: leave the first requests time
        REPLY_TIMEOUT_MS: '8000',
      },
      readyPattern: /kafka: ready: /,
      timeoutMs: 120_000,
    });
  }, 240_000);

  afterAll(async () => {
    await offline?.stop();
    await responder?.stop(10_000, 'SIGTERM');
    await topics?.cleanup();
  });

  test(`a NestJS ClientKafka calls price-quote: ${COUNT} requests, ${CONCURRENCY} at a time, each answered with its own quote; a refused quote errors its observable`, async () => {
    const requester = await startNest('requester', {
      REQUEST_TOPIC: `${topics.prefix}quote-requests`,
      GROUP_ID: uniqueName('nest-requester'),
      COUNT: String(COUNT),
      CONCURRENCY: String(CONCURRENCY),
      ERROR_PRODUCT_ID: 'discontinued-nest',
    });
    const result = await resultOf(requester, 180_000);
    console.info(`[nestjs → price-quote] ${JSON.stringify({ ...result, samples: undefined, errorReply: undefined })}`);
    expect(result).toMatchObject({ sent: COUNT, replies: COUNT, mismatches: 0, timeouts: 0, errors: 0, samples: [] });
    // price-quote's 422 reaches the NestJS caller as an error (kafka_nest-err), not as a quote
    expect(result.errorReply).toEqual({
      error: {
        statusCode: 422,
        code: 'PRODUCT_DISCONTINUED',
        message: 'product discontinued-nest is discontinued and cannot be quoted',
      },
    });
  }, 240_000);

  test(`POST /quotes answered by a NestJS @MessagePattern responder: ${COUNT} requests, ${CONCURRENCY} at a time`, async () => {
    const counts = await quoteLoad(offline, {
      count: COUNT,
      concurrency: CONCURRENCY,
      label: 'nest',
      matches: (body, request) =>
        body.productId === request.productId && body.quantity === request.quantity && body.by === 'nestjs',
    });
    console.info(`[POST /quotes → nestjs] ${JSON.stringify({ ...counts, samples: undefined })}`);
    expect(counts).toMatchObject({
      replies: COUNT,
      mismatches: 0,
      timeouts: 0,
      errors: 0,
      withoutKafkaId: 0,
      samples: [],
    });
  }, 240_000);

  test('POST /quotes: the NestJS responder’s RpcException becomes a 502 naming its error and the Kafka request', async () => {
    const response = await postQuote(
      offline,
      { productId: 'out-of-stock-7', quantity: 1 },
      { 'x-correlation-id': 'nest-err-1' },
    );
    expect(response.status).toBe(502);
    const kafkaId = response.headers.get('x-kafka-correlation-id');
    expect(kafkaId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await response.json()).toEqual({
      error: {
        code: 'BAD_REPLY',
        message: 'the responder reported an error (NestJS kafka_nest-err)',
        details: {
          kafkaCorrelationId: kafkaId,
          responderError: { code: 'OUT_OF_STOCK', message: 'out-of-stock-7 is out of stock' },
        },
        correlationId: 'nest-err-1',
      },
    });
  });
});
