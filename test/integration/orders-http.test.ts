import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../lib/config';
import { createKafka } from '../../lib/kafka/client';
import { ensureTopics, TOPICS } from '../../lib/kafka/topics';
import { createLogger } from '../../lib/logger';
import { BROKERS, consumeRecords, topicEnd, type ConsumedRecord } from '../helpers/kafka';
import { startOffline, type OfflineProcess } from '../helpers/offline';

/** POST /orders through a running `serverless offline`, onto the real `orders` topic. */
describe('POST /orders on serverless offline', () => {
  let offline: OfflineProcess;
  const run = randomUUID().slice(0, 8); // correlation ids of this run: tests may share the topic with others
  const header = (r: ConsumedRecord, name: string) => r.headers[name]?.toString();
  const ours = (r: ConsumedRecord) => header(r, 'correlation-id')?.startsWith(`t-${run}-`) ?? false;

  beforeAll(async () => {
    const logger = createLogger({ level: 'silent' });
    const admin = createKafka({ config: loadConfig({ KAFKA_BROKERS: BROKERS.join(',') }), logger }).admin();
    await admin.connect();
    await ensureTopics(admin, TOPICS, logger);
    await admin.disconnect();
    offline = await startOffline();
  });
  afterAll(async () => {
    await offline?.stop();
  });

  const post = (body: string | Uint8Array, correlationId: string, contentType = 'application/json') =>
    fetch(`${offline.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': contentType, 'x-correlation-id': correlationId },
      body,
      signal: AbortSignal.timeout(30_000),
    });

  it('publishes a valid order to `orders`, keyed by order id, with headers and the envelope, and answers 202', async () => {
    const from = await topicEnd('orders');
    const order = {
      customerId: 'c-42',
      items: [{ sku: 'book-1', quantity: 2, unitPriceCents: 1250 }],
      currency: 'EUR',
    };
    const response = await post(JSON.stringify(order), `t-${run}-valid`);
    expect(response.status).toBe(202);
    const body = (await response.json()) as { orderId: string; messageId: string; correlationId: string };
    expect(body.correlationId).toBe(`t-${run}-valid`);
    expect(response.headers.get('x-correlation-id')).toBe(`t-${run}-valid`);

    const [record] = await consumeRecords('orders', 1, { from, filter: (r) => r.key?.toString() === body.orderId });
    expect(header(record!, 'content-type')).toBe('application/json');
    expect(header(record!, 'message-id')).toBe(body.messageId);
    expect(header(record!, 'event-type')).toBe('order.placed');
    expect(header(record!, 'correlation-id')).toBe(`t-${run}-valid`);
    const envelope = JSON.parse(record!.value!.toString());
    expect(envelope).toEqual({
      id: body.messageId,
      type: 'order.placed',
      occurredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      correlationId: `t-${run}-valid`,
      causationId: null,
      payload: { ...order, orderId: body.orderId, totalCents: 2500 },
    });
  });

  it("uses the client's order id as the key, so a retried order lands on the same partition", async () => {
    const from = await topicEnd('orders');
    const orderId = `o-${run}`;
    const order = JSON.stringify({ orderId, customerId: 'c-1', items: [{ sku: 's', quantity: 1, unitPriceCents: 1 }] });
    expect((await post(order, `t-${run}-retry-1`)).status).toBe(202);
    expect((await post(order, `t-${run}-retry-2`)).status).toBe(202);
    const records = await consumeRecords('orders', 2, { from, filter: (r) => r.key?.toString() === orderId });
    expect(records.map((r) => r.partition)).toEqual([records[0]!.partition, records[0]!.partition]);
    expect(records.map((r) => header(r, 'correlation-id'))).toEqual([`t-${run}-retry-1`, `t-${run}-retry-2`]);
  });

  it('publishes nothing for bad input and says what is wrong', async () => {
    const from = await topicEnd('orders');
    const valid = JSON.stringify({ customerId: 'c', items: [{ sku: 's', quantity: 1, unitPriceCents: 1 }] });
    const notUtf8 = Buffer.from(valid.replace('"c"', '"c\u00ff"'), 'latin1'); // 0xff alone is never UTF-8
    const cases: [string, string | Uint8Array, number, RegExp, string?][] = [
      ['malformed', '{"customerId":', 400, /not valid JSON/],
      ['not-utf8', notUtf8, 400, /not valid UTF-8 \(byte 16\)/],
      ['text-plain', valid, 415, /content type text\/plain is not JSON/, 'text/plain'],
      ['missing', JSON.stringify({ customerId: 'c' }), 400, /items/],
      ['wrong-type', JSON.stringify({ customerId: 7, items: [] }), 400, /customerId/],
      [
        'oversized',
        JSON.stringify({ customerId: 'c', items: [], pad: 'x'.repeat(100 * 1024) }),
        413,
        /limit is 65536 bytes/,
      ],
    ];
    for (const [name, body, status, message, contentType] of cases) {
      const response = await post(body, `t-${run}-bad-${name}`, contentType);
      expect({ name, status: response.status }).toEqual({ name, status });
      const json = (await response.json()) as { error: { message: string; correlationId: string } };
      expect(json.error.message).toMatch(message);
      expect(json.error.correlationId).toBe(`t-${run}-bad-${name}`);
    }
    // a good order after the bad ones: once it is on the topic, anything the bad ones published would be too
    const response = await post(
      JSON.stringify({ customerId: 'c', items: [{ sku: 's', quantity: 1, unitPriceCents: 1 }] }),
      `t-${run}-after-bad`,
    );
    const { orderId } = (await response.json()) as { orderId: string };
    await consumeRecords('orders', 1, { from, filter: (r) => r.key?.toString() === orderId });
    const end = await topicEnd('orders');
    const total = [...end].reduce((sum, [p, high]) => sum + Number(BigInt(high) - BigInt(from.get(p) ?? '0')), 0);
    const all = await consumeRecords('orders', total, { from });
    expect(all.filter(ours).map((r) => header(r, 'correlation-id'))).not.toContainEqual(
      expect.stringContaining('-bad-'),
    );
  });

  it('logs a refused request as one line, without a stack trace', async () => {
    const correlationId = `t-${run}-logged`;
    const response = await post('{"customerId": nope}', correlationId);
    expect(response.status).toBe(400);
    // the function's stdout reaches serverless offline's output asynchronously: wait for the line, then
    // a little longer so a second line (a stack, a cause) would have arrived too
    await offline.waitForOutput(new RegExp(`"correlationId":"${correlationId}"`), 10_000);
    await new Promise((r) => setTimeout(r, 500));
    const lines = offline
      .output()
      .split('\n')
      .filter((line) => line.includes(correlationId));
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!.slice(lines[0]!.indexOf('{'))) as Record<string, unknown>;
    expect(entry).toMatchObject({
      level: 'info',
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      correlationId,
      path: '/orders',
      msg: "the request body is not valid JSON (Unexpected token 'o')",
    });
    expect(lines[0]).not.toMatch(/stack|\bat \S+ \(|caused by/i);
  });
});
