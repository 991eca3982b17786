import type { TopicMessages } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { BrokerUnavailableError } from '../../../lib/errors';
import { decodeKafkaEvent, type KafkaEvent } from '../../../lib/kafka/records';
import { createLogger } from '../../../lib/logger';
import { QuoteRequestSchema, priceQuote } from '../../../lib/quotes/quote';
import { BadReplyError } from '../../../lib/request-reply/errors';
import { replyToHttp } from '../../../lib/request-reply/http';
import { RR_HEADERS, encodeReplyPartition } from '../../../lib/request-reply/protocol';
import { createResponder, replyWith } from '../../../lib/request-reply/responder';

const signed = (bytes: Buffer) => [...bytes].map((b) => (b > 127 ? b - 256 : b));

/** An MSK event as Lambda sends it, one record per entry of `records`. */
function mskEvent(records: { value: unknown; headers: Record<string, Buffer | string> }[]): KafkaEvent {
  return {
    eventSource: 'aws:kafka',
    eventSourceArn: 'arn:aws:kafka:eu-west-1:123456789012:cluster/c/00000000-0000-0000-0000-000000000000-1',
    bootstrapServers: 'b-1:9092',
    records: {
      'quote-requests-0': records.map((r, offset) => ({
        topic: 'quote-requests',
        partition: 0,
        offset,
        timestamp: 1763800000000,
        timestampType: 'CREATE_TIME',
        key: Buffer.from(`k-${offset}`).toString('base64'),
        value: Buffer.from(JSON.stringify(r.value)).toString('base64'),
        headers: Object.entries(r.headers).map(([name, v]) => ({ [name]: signed(Buffer.from(v)) })),
      })),
    },
  } as KafkaEvent;
}

function setup(options: { failSend?: boolean; handle?: Parameters<typeof createResponder>[0]['handle'] } = {}) {
  const sends: TopicMessages[][] = [];
  const responder = createResponder({
    name: 'price-quote',
    schema: QuoteRequestSchema,
    handle: options.handle ?? (async ({ body }) => priceQuote(body)),
    allowedReplyTopics: ['quote-replies', 'other-replies'],
    transport: {
      send: async (topicMessages) => {
        if (options.failSend) throw new BrokerUnavailableError('the broker did not acknowledge');
        sends.push(topicMessages);
      },
      partitionCount: async () => 4,
    },
    logger: createLogger({ level: 'silent' }),
    sendTimeoutMs: 1000,
  });
  return { responder, sends };
}

const request = (value: unknown, replyTopic = 'quote-replies', extra: Record<string, Buffer | string> = {}) => ({
  value,
  headers: {
    [RR_HEADERS.correlationId]: randomUUID(),
    [RR_HEADERS.replyTopic]: replyTopic,
    [RR_HEADERS.replyPartition]: encodeReplyPartition(1),
    ...extra,
  },
});

describe('responder helper', () => {
  test('replyWith answers with the status the handler chose', async () => {
    const { responder, sends } = setup({
      handle: async ({ body }) => replyWith(201, { created: (body as { productId: string }).productId }),
    });
    await responder.handleRecords(decodeKafkaEvent(mskEvent([request({ productId: 'a', quantity: 1 })])));
    const [reply] = sends[0]!.flatMap((t) => t.messages);
    expect(String(reply!.headers![RR_HEADERS.replyStatus])).toBe('201');
    expect(JSON.parse(String(reply!.value))).toEqual({ created: 'a' });
    expect(responder.stats()).toMatchObject({ replied: 1, errorReplies: 0 });
  });

  test('sends every reply of a batch in one produce call, to each requester’s topic and partition', async () => {
    const { responder, sends } = setup();
    const event = mskEvent([
      request({ productId: 'a', quantity: 1 }),
      request({ productId: 'b', quantity: 2 }, 'other-replies'),
      request({ productId: 'discontinued-c', quantity: 1 }),
      { value: { productId: 'event', quantity: 1 }, headers: {} },
    ]);
    const outcome = await responder.handleRecords(decodeKafkaEvent(event));
    expect(outcome).toEqual({ replies: 3, skipped: 1 });
    expect(sends).toHaveLength(1);
    const [batch] = sends;
    expect(batch!.map((t) => t.topic).sort()).toEqual(['other-replies', 'quote-replies']);
    const all = batch!.flatMap((t) => t.messages);
    expect(all.every((m) => m.partition === 1)).toBe(true);
    expect(all.map((m) => String(m.headers![RR_HEADERS.replyStatus])).sort()).toEqual(['200', '200', '422']);
    expect(responder.stats()).toMatchObject({ notRequest: 1, errorReplies: 1, replied: 3 });
  });

  test('every reply tells a NestJS ClientKafka it is complete; an error reply also carries kafka_nest-err', async () => {
    const { responder, sends } = setup();
    await responder.handleRecords(
      decodeKafkaEvent(
        mskEvent([request({ productId: 'a', quantity: 1 }), request({ productId: 'discontinued-c', quantity: 1 })]),
      ),
    );
    const [ok, refused] = sends[0]!.flatMap((t) => t.messages);
    expect(ok!.headers).toHaveProperty('kafka_nest-is-disposed');
    expect(ok!.headers).not.toHaveProperty('kafka_nest-err');
    expect(refused!.headers).toHaveProperty('kafka_nest-is-disposed');
    expect(JSON.parse(String(refused!.headers!['kafka_nest-err']))).toEqual({
      statusCode: 422,
      code: 'PRODUCT_DISCONTINUED',
      message: 'product discontinued-c is discontinued and cannot be quoted',
    });
  });

  test('an infrastructure fault (the broker cannot take the replies) is thrown so the batch is delivered again', async () => {
    const { responder } = setup({ failSend: true });
    await expect(
      responder.handleRecords(decodeKafkaEvent(mskEvent([request({ productId: 'a', quantity: 1 })]))),
    ).rejects.toBeInstanceOf(BrokerUnavailableError);
  });
});

describe('reply → HTTP answer, judged by the conventions of the service that sent it', () => {
  const reply = (status: number | undefined, value: string | null, headers: Record<string, string> = {}) => ({
    correlationId: 'c-1',
    status,
    value: value === null ? null : Buffer.from(value),
    headers: { ...(status !== undefined ? { 'x-reply-status': Buffer.from(String(status)) } : {}), ...headers },
    partition: 0,
    offset: '0',
  });
  const badReply = (r: ReturnType<typeof reply>): BadReplyError => {
    try {
      replyToHttp(r);
    } catch (error) {
      return error as BadReplyError;
    }
    throw new Error('expected a BadReplyError');
  };

  test('x-reply-status present: a success or a 4xx reply is answered with its own status and body', () => {
    const ok = replyToHttp(reply(200, '{"totalCents":5}'));
    expect(ok).toMatchObject({ statusCode: 200, body: '{"totalCents":5}' });
    expect(ok.headers).toMatchObject({ 'x-kafka-correlation-id': 'c-1' });
    const refused = replyToHttp(reply(422, '{"error":{"code":"X","message":"no"}}'), 'http-1');
    expect(refused.statusCode).toBe(422);
    expect(JSON.parse(refused.body!)).toEqual({ error: { code: 'X', message: 'no', correlationId: 'http-1' } });
  });

  test('no x-reply-status and no error mark (a plain Spring @SendTo or NestJS @MessagePattern reply): 200', () => {
    const plain = replyToHttp(reply(undefined, '{"total":7}', { 'kafka_nest-is-disposed': '\u0000' }));
    expect(plain).toMatchObject({ statusCode: 200, body: '{"total":7}' });
    expect(plain.headers).toMatchObject({ 'x-kafka-correlation-id': 'c-1' });
  });

  test('NestJS kafka_nest-err, Spring kafka_exception-* headers: 502 with the responder’s error, whatever the body', () => {
    const nest = badReply(reply(undefined, null, { 'kafka_nest-err': '{"status":"error","message":"out of stock"}' }));
    expect(nest.statusCode).toBe(502);
    expect(nest.details).toEqual({
      kafkaCorrelationId: 'c-1',
      responderError: { status: 'error', message: 'out of stock' },
    });
    expect(nest.headers).toEqual({ 'x-kafka-correlation-id': 'c-1' });
    const spring = badReply(
      reply(undefined, '{}', {
        'kafka_exception-fqcn': 'java.lang.IllegalStateException',
        'kafka_exception-message': 'no price',
      }),
    );
    expect(spring.details).toEqual({
      kafkaCorrelationId: 'c-1',
      responderError: { exception: 'java.lang.IllegalStateException', message: 'no price' },
    });
    const dlt = badReply(reply(undefined, '{}', { 'kafka_dlt-exception-message': 'failed after retries' }));
    expect(dlt.details).toMatchObject({ responderError: { message: 'failed after retries' } });
  });

  test('x-reply-status wins over a framework’s mark: this project’s own 422 stays a 422', () => {
    const refused = replyToHttp(reply(422, '{"error":{"code":"X","message":"no"}}', { 'kafka_nest-err': '{}' }));
    expect(refused.statusCode).toBe(422);
  });

  test('a 5xx reply, an unreadable x-reply-status and a body that is not JSON become 502, naming the Kafka request', () => {
    for (const bad of [
      reply(500, '{"error":{"code":"E","message":"m"}}'),
      { ...reply(undefined, '{}'), headers: { 'x-reply-status': Buffer.from('ok') } },
      reply(200, 'nope'),
      reply(undefined, 'nope'),
      reply(undefined, null),
    ]) {
      const error = badReply(bad);
      expect(error).toBeInstanceOf(BadReplyError);
      expect(error.headers).toEqual({ 'x-kafka-correlation-id': 'c-1' });
    }
  });
});
