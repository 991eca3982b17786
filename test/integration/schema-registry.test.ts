/**
 * The local event source with a Confluent-compatible schema registry (franz-go's srfake, broker/registry.ts)
 * and the real broker, as Lambda applies `schemaRegistryConfig`: Avro values delivered as JSON with
 * valueSchemaMetadata and filtered on their fields, Protobuf values delivered as their source bytes
 * without the wire frame, the other format × record format pairs, an unknown schema id (SCHEMA_NOT_FOUND) and bytes that do not deserialize
 * (DESERIALIZATION_ERROR) sent to the on-failure destination in their turn, and a registry that cannot be
 * asked: told once, nothing delivered or committed until it answers again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import avro from 'avsc';
import { startRegistry, type Registry } from '../../broker/registry';
import { BROKERS, consumeRecords, createTopic, uniqueName, waitFor, withAdmin } from '../helpers/kafka';
import { freePort, startOffline, type OfflineProcess } from '../helpers/offline';
import {
  confluentFrame,
  QUOTE_AVRO,
  quoteType,
} from '../../packages/serverless-offline-kafka/test/helpers/schema-registry';
import { delivered as deliveredIn, FIXTURE, Order, ORDER_PROTO, produceRaw, type Delivered } from './registry-fixture';

const EVENT_SCHEMA = JSON.stringify({
  type: 'object',
  required: ['kind', 'amountCents'],
  properties: { kind: { type: 'string' }, amountCents: { type: 'integer', minimum: 0 } },
});

/** Register the test's schemas in a fresh registry, always in the same order (so with the same ids). */
async function register(
  registry: Registry,
): Promise<{ quote: number; order: number; late: number; event: number; eventKey: number }> {
  const post = async (subject: string, body: object) => {
    const response = await fetch(`${registry.url}/subjects/${subject}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { id: number }).id;
  };
  return {
    quote: await post('quotes-value', { schema: QUOTE_AVRO }),
    order: await post('orders-value', { schema: ORDER_PROTO, schemaType: 'PROTOBUF' }),
    late: await post('late-value', { schema: '"string"' }),
    event: await post('events-value', { schema: EVENT_SCHEMA, schemaType: 'JSON' }),
    eventKey: await post('events-key', { schema: '{"type":"string"}', schemaType: 'JSON' }),
  };
}

describe('a schema registry in the local event source', () => {
  let registry: Registry;
  let port: number;
  let offline: OfflineProcess;
  let ids: Awaited<ReturnType<typeof register>>;
  const dir = mkdtempSync(join(tmpdir(), 'es-registry-'));
  const report = join(dir, 'report.jsonl');
  const topics = {
    avro: uniqueName('sr-quotes'),
    proto: uniqueName('sr-orders'),
    json: uniqueName('sr-events'),
    dlq: uniqueName('sr-dlq'),
    avroSource: uniqueName('sr-avro-source'),
    protoJson: uniqueName('sr-proto-json'),
    jsonSource: uniqueName('sr-json-source'),
  };
  const delivered = (topic: string) => deliveredIn(report, topic);
  const committed = (topic: string, fn = 'quotes') =>
    withAdmin(async (admin) => {
      const [answer] = await admin.fetchOffsets({ groupId: `es-registry-local-${fn}-${topic}`, topics: [topic] });
      return answer?.partitions[0]?.offset;
    });

  beforeAll(async () => {
    port = await freePort();
    registry = await startRegistry({ port });
    ids = await register(registry);
    for (const topic of Object.values(topics)) await createTopic(topic);
    offline = await startOffline({
      cwd: FIXTURE,
      env: {
        BROKERS: BROKERS.join(','),
        AVRO_TOPIC: topics.avro,
        PROTO_TOPIC: topics.proto,
        JSON_TOPIC: topics.json,
        DLQ_TOPIC: topics.dlq,
        AVRO_SOURCE_TOPIC: topics.avroSource,
        PROTO_JSON_TOPIC: topics.protoJson,
        JSON_SOURCE_TOPIC: topics.jsonSource,
        REGISTRY_URL: registry.url,
        REPORT_FILE: report,
        ORDER_PROTO,
      },
      readyPattern: /kafka: ready: 6 consumer/,
      timeoutMs: 120_000,
    });
  }, 180_000);

  afterAll(async () => {
    await offline?.stop();
    await registry?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers Avro values as JSON with their metadata, filtered on their fields; failures go to the destination in their turn', async () => {
    await produceRaw(topics.avro, [
      confluentFrame(ids.quote, quoteType.toBuffer({ productId: 'p-1', quantity: 2 })),
      confluentFrame(ids.quote, quoteType.toBuffer({ productId: 'p-0', quantity: 0 })), // filtered out
      confluentFrame(999, Buffer.from([2])), // no such schema
      confluentFrame(ids.quote, Buffer.from([0xff, 0xff, 0xff, 0xff])), // not this schema's bytes
      confluentFrame(ids.quote, quoteType.toBuffer({ productId: 'p-5', quantity: 5 })),
    ]);
    await waitFor(() => delivered(topics.avro).length === 2, { timeoutMs: 30_000, what: 'two quotes' });
    const got = delivered(topics.avro);
    expect(got.map((d) => [d.offset, JSON.parse(Buffer.from(d.value, 'base64').toString())])).toEqual([
      [0, { productId: 'p-1', quantity: 2 }],
      [4, { productId: 'p-5', quantity: 5 }],
    ]);
    expect(got[0]!.valueSchemaMetadata).toEqual({ dataFormat: 'AVRO', schemaId: String(ids.quote) });

    const failures = await consumeRecords(topics.dlq, 2);
    const bodies = failures.map(
      (f) =>
        JSON.parse(String(f.value)) as {
          requestContext: { condition: string };
          KafkaBatchInfo: { recordInfo: { offset: string } };
        },
    );
    expect(bodies.map((b) => [b.KafkaBatchInfo.recordInfo.offset, b.requestContext.condition])).toEqual([
      ['2', 'SCHEMA_NOT_FOUND'],
      ['3', 'DESERIALIZATION_ERROR'],
    ]);
    await waitFor(async () => (await committed(topics.avro)) === '5', {
      timeoutMs: 30_000,
      what: 'offset 5 committed',
    });
    expect(offline.output()).toMatch(/sent to kafka:\/\/\S+ \(SCHEMA_NOT_FOUND: VALUE: schema id 999 is not in http/);
  });

  it("delivers Protobuf values in SOURCE format, which Powertools' kafkaConsumer decodes unchanged", async () => {
    const message = Order.encode({ orderId: 'o-1', totalCents: 1999 }).finish();
    // message indexes [1] (the second message of the file): count 1 and index 1, zig-zag encoded
    const payload = Buffer.concat([Buffer.from([2, 2]), message]);
    await produceRaw(topics.proto, [confluentFrame(ids.order, payload)]);
    await waitFor(() => delivered(topics.proto).length === 1, { timeoutMs: 30_000, what: 'the order' });
    // the bytes after the wire frame, message indexes first (what Powertools' Protobuf deserializer skips)
    expect(delivered(topics.proto)[0]!.decoded).toEqual({ orderId: 'o-1', totalCents: '1999' });
  });

  it('the rest of the matrix: Avro as SOURCE, Protobuf as JSON, JSON Schema as SOURCE, each with its metadata', async () => {
    const avroBody = quoteType.toBuffer({ productId: 'p-7', quantity: 7 });
    const orderBody = Buffer.concat([Buffer.from([2, 2]), Order.encode({ orderId: 'o-2', totalCents: 42 }).finish()]);
    const jsonBody = Buffer.from(JSON.stringify({ kind: 'paid', amountCents: 7 }));
    await produceRaw(topics.avroSource, [confluentFrame(ids.quote, avroBody)]);
    await produceRaw(topics.protoJson, [confluentFrame(ids.order, orderBody)]);
    await produceRaw(topics.jsonSource, [confluentFrame(ids.event, jsonBody)]);
    const all = [topics.avroSource, topics.protoJson, topics.jsonSource];
    await waitFor(() => all.every((t) => delivered(t).length === 1), { timeoutMs: 30_000, what: 'one record each' });
    const [avroSource, protoJson, jsonSource] = all.map((t) => delivered(t)[0]!);
    const bytes = (d: Delivered) => Buffer.from(d.value, 'base64');

    // SOURCE: the bytes after the wire frame, unchanged
    expect(bytes(avroSource!).equals(avroBody)).toBe(true);
    expect(avroSource!.valueSchemaMetadata).toEqual({ dataFormat: 'AVRO', schemaId: String(ids.quote) });
    expect(bytes(jsonSource!).equals(jsonBody)).toBe(true);
    expect(jsonSource!.valueSchemaMetadata).toEqual({ dataFormat: 'JSON', schemaId: String(ids.event) });
    // JSON: the Protobuf message the indexes name, decoded (int64 as a string, as in Protobuf's JSON mapping)
    expect(JSON.parse(bytes(protoJson!).toString())).toEqual({ orderId: 'o-2', totalCents: '42' });
    expect(protoJson!.valueSchemaMetadata).toEqual({ dataFormat: 'PROTOBUF', schemaId: String(ids.order) });
  });

  it('validates JSON Schema keys and values; a record that fails is dropped with one line, and committed past', async () => {
    const json = (value: object | string) => Buffer.from(JSON.stringify(value));
    await produceRaw(
      topics.json,
      [
        confluentFrame(ids.event, json({ kind: 'paid', amountCents: 1999 })),
        confluentFrame(ids.event, json({ kind: 'refund', amountCents: -5 })), // breaks the schema's minimum
        confluentFrame(ids.event, json({ kind: 'paid', amountCents: 1 })),
      ],
      [
        confluentFrame(ids.eventKey, json('c-1')),
        confluentFrame(ids.eventKey, json('c-2')),
        confluentFrame(ids.eventKey, json('c-3')),
      ],
    );
    await waitFor(async () => (await committed(topics.json, 'events')) === '3', {
      timeoutMs: 30_000,
      what: 'offset 3 committed',
    });
    const got = delivered(topics.json);
    const text = (base64?: string) => JSON.parse(Buffer.from(base64!, 'base64').toString()) as unknown;
    expect(got.map((d) => [d.offset, text(d.key), text(d.value)])).toEqual([
      [0, 'c-1', { kind: 'paid', amountCents: 1999 }],
      [2, 'c-3', { kind: 'paid', amountCents: 1 }],
    ]);
    expect(got[0]).toMatchObject({
      keySchemaMetadata: { dataFormat: 'JSON', schemaId: String(ids.eventKey) },
      valueSchemaMetadata: { dataFormat: 'JSON', schemaId: String(ids.event) },
    });
    const dropped =
      /events: \S+-0 offset 1: record dropped \(DESERIALIZATION_ERROR: VALUE: the JSON does not match its schema/g;
    expect(offline.output().match(dropped)).toHaveLength(1);
  });

  it('holds the records while the registry cannot be asked, says so once, and delivers once it answers', async () => {
    await registry.stop();
    const before = await committed(topics.avro);
    await produceRaw(topics.avro, [confluentFrame(ids.late, avro.Type.forSchema('string').toBuffer('x'))]);
    const down = /quotes <- \S+: schema registry http:\/\/127\.0\.0\.1:\d+ cannot be asked/g;
    await offline.waitForOutput(down, 30_000);
    await new Promise((r) => setTimeout(r, 2_500));
    expect(offline.output().match(down)).toHaveLength(1);
    expect(await committed(topics.avro)).toBe(before);

    registry = await startRegistry({ port });
    expect(await register(registry)).toEqual(ids); // an in-memory registry: the same schemas, the same ids
    await offline.waitForOutput(/quotes <- \S+: schema registry http:\/\/127\.0\.0\.1:\d+ answers again/, 30_000);
    // a string value has no quantity: the filter drops it, and it is committed
    await waitFor(async () => (await committed(topics.avro)) === '6', {
      timeoutMs: 30_000,
      what: 'offset 6 committed',
    });
  });
});
