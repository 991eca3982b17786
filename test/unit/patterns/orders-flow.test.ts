import avro from 'avsc';
import type { Message } from 'kafkajs';
import { PoisonRecordError, decodeKafkaEvent, parseJsonRecord, type KafkaEvent } from '../../../lib/kafka/records';
import { createDeadLetterSink } from '../../../lib/kafka/dead-letter';
import { derivedId } from '../../../lib/kafka/envelope';
import type { Publisher } from '../../../lib/kafka/producer';
import { ANALYTICS_FACT_AVRO, AnalyticsFactSchema, recordRevenue } from '../../../lib/orders/analytics';
import { OrderOutcomeEventSchema, OrderPlacedEventSchema } from '../../../lib/orders/events';
import { fulfilOrder, rejectionReason } from '../../../lib/orders/fulfil-order';
import { notifyCustomer, recordAudit, updateAnalytics } from '../../../lib/orders/listeners';
import { createRuntime } from '../../../lib/runtime';
import { AVRO_CONTENT_TYPE, createAvroSerializer } from '../../../lib/schema-registry/avro';
import { confluentSchemaHome } from '../../../lib/schema-registry/registries';
import ordersBatch from '../../fixtures/kafka-events/orders-batch.json';

/** A publisher that keeps what it was given (the broker itself is exercised by the integration tests). */
function capturingPublisher() {
  const sent: { topic: string; message: Message }[] = [];
  const publisher: Publisher = {
    publish: async (topic, messages) => {
      sent.push(...messages.map((message) => ({ topic, message })));
      return [];
    },
    disconnect: async () => undefined,
  };
  return { publisher, sent, values: () => sent.map((s) => JSON.parse(String(s.message.value))) };
}

const [order1, , order3, order2, order4] = decodeKafkaEvent(ordersBatch as unknown as KafkaEvent);
const { topics } = createRuntime({
  env: { KAFKA_BROKERS: '127.0.0.1:1', KAFKA_TOPIC_PREFIX: 't1-', LOG_LEVEL: 'silent' },
});

describe('fulfil-order', () => {
  it('publishes order.fulfilled to order-events, keyed by order id, on the same correlation id', async () => {
    // Prepare
    const placed = parseJsonRecord(order1!, OrderPlacedEventSchema);
    const { publisher, sent, values } = capturingPublisher();

    // Act
    await fulfilOrder(placed, { publisher, topics });

    // Assess
    expect(sent.map((s) => [s.topic, s.message.key])).toEqual([['t1-order-events', 'order-1']]);
    expect(values()[0]).toMatchObject({
      type: 'order.fulfilled',
      correlationId: 'corr-1',
      causationId: 'msg-order-1',
      payload: { orderId: 'order-1', customerId: 'cust-1', totalCents: 3000, currency: 'EUR', itemCount: 1 },
    });
    expect(sent[0]!.message.headers).toMatchObject({ 'correlation-id': 'corr-1', 'event-type': 'order.fulfilled' });
    expect(OrderOutcomeEventSchema.safeParse(values()[0]).success).toBe(true);
  });

  it('publishes order.rejected with the rule the order broke', async () => {
    // Prepare
    const placed = parseJsonRecord(order2!, OrderPlacedEventSchema);
    const { publisher, values } = capturingPublisher();

    // Act
    await fulfilOrder(placed, { publisher, topics });

    // Assess
    expect(values()[0]).toMatchObject({
      type: 'order.rejected',
      payload: { orderId: 'order-2', reason: 'sku discontinued-lamp is discontinued' },
    });
  });

  it('gives the same event id when the same order comes again (redelivery or a client retry)', async () => {
    // Prepare
    const placed = parseJsonRecord(order3!, OrderPlacedEventSchema);
    const retriedByClient = { ...placed, id: 'another-message-id' };
    const { publisher, values } = capturingPublisher();

    // Act
    await fulfilOrder(placed, { publisher, topics });
    await fulfilOrder(placed, { publisher, topics });
    await fulfilOrder(retriedByClient, { publisher, topics });

    // Assess
    const ids = values().map((v) => v.id);
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toBe(derivedId('fulfil-order', 'order-3'));
  });

  it('rejects an order whose total does not match its items, or that is too large', () => {
    // Prepare
    const placed = parseJsonRecord(order1!, OrderPlacedEventSchema).payload;

    // Act + Assess
    expect(rejectionReason({ ...placed, totalCents: 1 })).toBe('totalCents 1 does not match the items (3000)');
    const huge = {
      ...placed,
      items: [{ sku: 'gold', quantity: 1000, unitPriceCents: 20_000 }],
      totalCents: 20_000_000,
    };
    expect(rejectionReason(huge)).toMatch(/exceeds 10000000 cents/);
    expect(rejectionReason(placed)).toBeNull();
  });

  it('treats an order.placed that breaks the schema as poison', () => {
    // Act + Assess
    expect(() => parseJsonRecord(order4!, OrderPlacedEventSchema)).toThrow(PoisonRecordError);
    expect(() => parseJsonRecord(order4!, OrderPlacedEventSchema)).toThrow(/payload\.items/);
  });
});

/** Avro facts as update-analytics writes them, with a registry that gives the schema id 7. */
const SCHEMA_ID = 7;
const facts = () => {
  const home = confluentSchemaHome({
    registryUrl: 'http://registry.test:8081',
    subject: 't1-order-analytics-value',
    schema: JSON.stringify(ANALYTICS_FACT_AVRO),
    timeoutMs: 1000,
    fetch: async () => new Response(JSON.stringify({ id: SCHEMA_ID }), { status: 200 }),
  });
  const serializer = createAvroSerializer({ home, schema: ANALYTICS_FACT_AVRO, name: 't1-order-analytics' });
  return { contentType: AVRO_CONTENT_TYPE, encode: serializer.serialize };
};
/** What the event source hands record-revenue: the Confluent frame read, the Avro decoded. */
const decodeFact = (value: Buffer): unknown => {
  expect([value[0], value.readInt32BE(1)]).toEqual([0, SCHEMA_ID]);
  return JSON.parse(JSON.stringify(avro.Type.forSchema(ANALYTICS_FACT_AVRO).fromBuffer(value.subarray(5))));
};

describe('fan-out listeners', () => {
  const outcomeOf = async (record: typeof order1) => {
    const { publisher, values } = capturingPublisher();
    await fulfilOrder(parseJsonRecord(record!, OrderPlacedEventSchema), { publisher, topics });
    return OrderOutcomeEventSchema.parse(values()[0]);
  };

  it('each publish what they did to their own topic, caused by the event, on its correlation id', async () => {
    // Prepare
    const event = await outcomeOf(order2);
    const { publisher, sent } = capturingPublisher();
    const deps = { publisher, topics, record: order2!, facts: facts() };

    // Act
    await recordAudit(event, deps);
    await notifyCustomer(event, deps);
    await updateAnalytics(event, deps);

    // Assess
    expect(sent.map((s) => s.topic)).toEqual(['t1-order-audit', 't1-customer-notifications', 't1-order-analytics']);
    const [audit, notification] = sent.slice(0, 2).map((s) => JSON.parse(String(s.message.value)));
    const fact = decodeFact(sent[2]!.message.value as Buffer) as { id: string; payload: unknown };
    for (const value of [audit, notification, fact]) {
      expect(value).toMatchObject({ correlationId: 'corr-2', causationId: event.id });
    }
    expect(new Set([audit.id, notification.id, fact.id]).size).toBe(3);
    expect(notification.payload.text).toBe(
      'We could not fulfil your order order-2: sku discontinued-lamp is discontinued.',
    );
    expect(fact.payload).toMatchObject({ outcome: 'rejected', revenueCents: 0 });
    expect(sent[2]!.message.headers).toMatchObject({
      'content-type': 'avro/binary',
      'event-type': 'analytics.recorded',
    });
  });

  it('update-analytics writes Avro that record-revenue reads back as its fact, and books the revenue', async () => {
    // Prepare
    const event = await outcomeOf(order1);
    const { publisher, sent } = capturingPublisher();
    await updateAnalytics(event, { publisher, topics, record: order1!, facts: facts() });
    const fact = AnalyticsFactSchema.parse(decodeFact(sent[0]!.message.value as Buffer));
    const ledger = capturingPublisher();

    // Act
    await recordRevenue(fact, { publisher: ledger.publisher, topics });

    // Assess
    expect(ledger.sent.map((s) => [s.topic, s.message.key])).toEqual([['t1-revenue-ledger', 'order-1']]);
    expect(ledger.values()[0]).toMatchObject({
      type: 'revenue.recorded',
      correlationId: 'corr-1',
      causationId: fact.id,
      payload: { orderId: 'order-1', customerId: 'cust-1', revenueCents: 3000, currency: 'EUR' },
    });
  });
});

describe('dead-letter sink', () => {
  it('publishes the reason and the original record byte for byte, keyed like the original', async () => {
    // Prepare
    const notJson = decodeKafkaEvent(ordersBatch as unknown as KafkaEvent)[1]!;
    const error = new PoisonRecordError('record orders-0@41 is not JSON');
    const { publisher, sent, values } = capturingPublisher();
    const sink = createDeadLetterSink({ publisher, topic: 't1-dead-letter', consumer: 'fulfil-order' });

    // Act
    await sink(notJson, error);
    await sink(notJson, error);

    // Assess
    expect(sent[0]!.topic).toBe('t1-dead-letter');
    expect(sent[0]!.message.key).toEqual(Buffer.from('order-x'));
    expect(sent[0]!.message.headers).toMatchObject({
      'dead-letter-reason': 'VALIDATION_FAILED',
      'original-topic': 'orders',
      'original-partition': '0',
      'original-offset': '41',
      'correlation-id': 'corr-poison',
    });
    const [dead, again] = values();
    expect(dead.payload.reason).toMatchObject({ name: 'PoisonRecordError', message: 'record orders-0@41 is not JSON' });
    expect(Buffer.from(dead.payload.record.value, 'base64').toString()).toBe('{"id": "not closed');
    expect(dead.payload.consumer).toBe('fulfil-order');
    expect(again.id).toBe(dead.id);
  });
});
