import type { Context } from 'aws-lambda';
import type { KafkaMessage, Message, TopicMessages } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { BrokerUnavailableError } from '../../lib/errors';
import {
  httpJsonHandler,
  httpRequestReplyHandler,
  kafkaEnvelopeHandler,
  kafkaResponderHandler,
} from '../../lib/handlers';
import { jsonResponse, type HttpEvent } from '../../lib/http/middleware';
import { createEnvelope, envelopeSchema } from '../../lib/kafka/envelope';
import type { KafkaEvent } from '../../lib/kafka/records';
import { createLogger } from '../../lib/logger';
import { RR_HEADERS, encodeReplyPartition } from '../../lib/request-reply/protocol';
import type { Reply, Requester, RequestOptions } from '../../lib/request-reply/requester';
import type { RrTransport } from '../../lib/request-reply/transport';
import { createRuntime, type Runtime } from '../../lib/runtime';
import { toMskEvent } from '../helpers/msk-event';

const ENV = { KAFKA_BROKERS: '127.0.0.1:1', KAFKA_TOPIC_PREFIX: 't1-', LOG_LEVEL: 'silent' };
const context = { getRemainingTimeInMillis: () => 10_000 } as Context;

/** A runtime on fakes: publishes and request-reply sends are kept, nothing reaches a broker. */
function fakeRuntime(env: Record<string, string> = {}) {
  const published: { topic: string; messages: Message[] }[] = [];
  const sent: TopicMessages[][] = [];
  const publisher = {
    publish: jest.fn(async (topic: string, messages: Message[]) => {
      published.push({ topic, messages });
      return [];
    }),
    disconnect: jest.fn(async () => undefined),
  };
  const rrTransport: RrTransport = {
    send: async (topicMessages) => void sent.push(topicMessages),
    partitionCount: async () => 12,
    warm: async () => undefined,
    endOffsets: async () => new Map(),
    disconnect: async () => undefined,
  };
  const rt = createRuntime({
    env: { ...ENV, ...env },
    publisher,
    rrTransport,
    logger: createLogger({ level: 'silent' }),
  });
  return { rt, published, sent, publisher };
}

const message = (offset: number, value: string, headers: Record<string, string | Buffer> = {}): KafkaMessage =>
  ({
    offset: String(offset),
    key: Buffer.from(`k-${offset}`),
    value: Buffer.from(value),
    timestamp: '1763800000000',
    attributes: 0,
    headers,
  }) as KafkaMessage;

const ThingSchema = envelopeSchema(z.strictObject({ name: z.string() }));
const thing = (name: string) =>
  JSON.stringify(createEnvelope({ type: 'thing', payload: { name }, correlationId: 'c-1' }));

describe('kafkaEnvelopeHandler', () => {
  it('runs each valid record and sends a poison record to the prefixed dead-letter topic', async () => {
    const { rt, published } = fakeRuntime();
    const seen: string[] = [];
    const handler = kafkaEnvelopeHandler({
      name: 'thing-worker',
      schema: ThingSchema,
      reportBatchItemFailures: true,
      handle: async (event, { record, topics }) => {
        seen.push(`${event.payload.name}@${record.offset} -> ${topics.orderEvents}`);
      },
    }).withRuntime(rt);
    const event = toMskEvent('t1-things', 0, [message(0, thing('a')), message(1, 'not JSON'), message(2, thing('b'))]);
    const answer = await handler(event as KafkaEvent, context);
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual(['a@0 -> t1-order-events', 'b@2 -> t1-order-events']);
    expect(published.map((p) => p.topic)).toEqual(['t1-dead-letter']);
    expect(String(published[0]!.messages[0]!.headers!['dead-letter-consumer'])).toBe('thing-worker');
    expect(String(published[0]!.messages[0]!.headers!['original-offset'])).toBe('1');
  });

  it('answers a record that failed for a retriable reason (and the rest of its partition) as failed', async () => {
    const { rt, published } = fakeRuntime();
    const handler = kafkaEnvelopeHandler({
      name: 'thing-worker',
      schema: ThingSchema,
      reportBatchItemFailures: true,
      handle: async (event) => {
        if (event.payload.name === 'b') throw new BrokerUnavailableError('the broker did not acknowledge');
      },
    }).withRuntime(rt);
    const event = toMskEvent('t1-things', 3, [message(0, thing('a')), message(1, thing('b')), message(2, thing('c'))]);
    expect(await handler(event as KafkaEvent, context)).toEqual({
      batchItemFailures: [
        { itemIdentifier: { partition: 't1-things-3', offset: 1 } },
        { itemIdentifier: { partition: 't1-things-3', offset: 2 } },
      ],
    });
    expect(published).toEqual([]);
  });
});

describe('kafkaResponderHandler', () => {
  it('answers a batch of requests in ONE send, to the prefixed allowed reply topic', async () => {
    const { rt, sent } = fakeRuntime({ REPLY_TOPICS_ALLOWED: 'quote-replies' });
    const handler = kafkaResponderHandler({
      name: 'echo',
      schema: z.strictObject({ n: z.number() }),
      handle: async ({ body }) => ({ twice: body.n * 2 }),
    }).withRuntime(rt);
    const request = (offset: number, replyTopic: string) =>
      message(offset, JSON.stringify({ n: offset }), {
        [RR_HEADERS.correlationId]: randomUUID(),
        [RR_HEADERS.replyTopic]: replyTopic,
        [RR_HEADERS.replyPartition]: encodeReplyPartition(3),
      });
    const event = toMskEvent('t1-quote-requests', 0, [
      request(1, 't1-quote-replies'),
      request(2, 't1-quote-replies'),
      request(3, 'quote-replies'), // not on the allow-list once prefixed: skipped
    ]);
    expect(await handler(event as KafkaEvent, context)).toEqual({ replies: 2, skipped: 1 });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.map((t) => t.topic)).toEqual(['t1-quote-replies']);
    expect(sent[0]![0]!.messages.map((m) => [m.partition, JSON.parse(String(m.value))])).toEqual([
      [3, { twice: 2 }],
      [3, { twice: 4 }],
    ]);
  });
});

describe('HTTP handlers', () => {
  const httpEvent = (body: string): HttpEvent =>
    ({
      version: '2.0',
      rawPath: '/things',
      headers: { 'content-type': 'application/json', 'x-correlation-id': 'c-42' },
      requestContext: { requestId: 'r-1' },
      body,
      isBase64Encoded: false,
    }) as unknown as HttpEvent;
  const Schema = z.strictObject({ productId: z.string() });

  it('answers a broken configuration with a JSON 500 naming nothing secret', async () => {
    const handler = httpJsonHandler({ schema: Schema, handle: async () => jsonResponse(200, {}) }).withRuntime(() =>
      createRuntime({ env: { KAFKA_BROKERS: 'no port', LOG_LEVEL: 'silent' } }),
    );
    const answer = await handler(httpEvent('{"productId":"p"}'), context);
    expect(answer.statusCode).toBe(500);
    expect(JSON.parse(answer.body as string)).toEqual({
      error: { code: 'CONFIG_INVALID', message: expect.stringContaining('KAFKA_BROKERS'), correlationId: 'c-42' },
    });
  });

  it('request-reply: publishes to the request topic with the body key and answers with the reply', async () => {
    const { rt } = fakeRuntime();
    const asked: RequestOptions[] = [];
    const requester = {
      request: async (options: RequestOptions): Promise<Reply> => {
        asked.push(options);
        return {
          correlationId: 'k-1',
          status: 200,
          value: Buffer.from(JSON.stringify({ price: 7 })),
          headers: { [RR_HEADERS.replyStatus]: Buffer.from('200') },
          partition: 0,
          offset: '0',
        };
      },
    } as unknown as Requester;
    const replyTopics: string[] = [];
    const withFakeRequester: Runtime = {
      ...rt,
      requester: (topic) => (replyTopics.push(topic), requester),
    };
    const handler = httpRequestReplyHandler({
      schema: Schema,
      topics: ({ topics }) => ({ requestTopic: topics.quoteRequests, replyTopic: topics.quoteReplies }),
      key: (body) => body.productId,
      warmUp: false,
    }).withRuntime(withFakeRequester);
    const answer = await handler(httpEvent('{"productId":"p-9"}'), context);
    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(answer.body as string)).toEqual({ price: 7 });
    expect(answer.headers).toMatchObject({ 'x-kafka-correlation-id': 'k-1', 'x-correlation-id': 'c-42' });
    expect(replyTopics).toEqual(['t1-quote-replies']);
    expect(asked).toEqual([
      expect.objectContaining({
        topic: 't1-quote-requests',
        key: 'p-9',
        value: { productId: 'p-9' },
        headers: { 'x-correlation-id': 'c-42' },
      }),
    ]);
  });
});
