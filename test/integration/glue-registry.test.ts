/**
 * The local event source with an AWS Glue Schema Registry (moto in server mode, broker/moto.ts) and the
 * real broker, as Lambda applies a `schemaRegistryConfig` whose URI is a Glue registry ARN: the Glue frame
 * (header version 3, compression none or zlib, the schema version UUID) read, the version fetched with
 * GetSchemaVersion, Avro and Protobuf values delivered as JSON and as SOURCE with the version UUID as
 * `schemaId`, a Protobuf SOURCE record decoded unchanged by Powertools' kafkaConsumer, and an unknown
 * version UUID sent to the on-failure destination as SCHEMA_NOT_FOUND.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateRegistryCommand, CreateSchemaCommand, GlueClient } from '@aws-sdk/client-glue';
import { motoClientConfig, motoEnv, startMoto, type Moto } from '../../broker/moto';
import { BROKERS, consumeRecords, createTopic, uniqueName, waitFor } from '../helpers/kafka';
import { freePort, startOffline, type OfflineProcess } from '../helpers/offline';
import { glueFrame, QUOTE_AVRO, quoteType } from '../../packages/serverless-offline-kafka/test/helpers/schema-registry';
import { delivered as deliveredIn, FIXTURE, Order, ORDER_PROTO, produceRaw } from './registry-fixture';

/** Glue numbers a file's messages by full name: shop.Header 0, shop.Order 1 */
const orderPayload = (orderId: string, totalCents: number) =>
  Buffer.concat([Buffer.from([1]), Order.encode({ orderId, totalCents }).finish()]);

describe('an AWS Glue schema registry in the local event source', () => {
  let moto: Moto;
  let offline: OfflineProcess;
  const versions = { quote: '', order: '' };
  const dir = mkdtempSync(join(tmpdir(), 'es-glue-'));
  const report = join(dir, 'report.jsonl');
  const registryName = uniqueName('glue-registry');
  const topics = {
    avroJson: uniqueName('glue-avro-json'),
    avroSource: uniqueName('glue-avro-source'),
    protoJson: uniqueName('glue-proto-json'),
    protoSource: uniqueName('glue-proto-source'),
    dlq: uniqueName('glue-dlq'),
  };
  const delivered = (topic: string) => deliveredIn(report, topic);

  beforeAll(async () => {
    moto = await startMoto(await freePort());
    const aws = motoEnv(moto);
    const glue = new GlueClient(motoClientConfig(moto));
    const { RegistryArn } = await glue.send(new CreateRegistryCommand({ RegistryName: registryName }));
    const schema = async (name: string, DataFormat: 'AVRO' | 'PROTOBUF', SchemaDefinition: string) =>
      (
        await glue.send(
          new CreateSchemaCommand({
            RegistryId: { RegistryName: registryName },
            SchemaName: name,
            Compatibility: 'BACKWARD',
            DataFormat,
            SchemaDefinition,
          }),
        )
      ).SchemaVersionId!;
    versions.quote = await schema('quote', 'AVRO', QUOTE_AVRO);
    versions.order = await schema('order', 'PROTOBUF', ORDER_PROTO);
    for (const topic of Object.values(topics)) await createTopic(topic);
    offline = await startOffline({
      cwd: FIXTURE,
      config: 'glue.yml',
      env: {
        ...aws,
        BROKERS: BROKERS.join(','),
        GLUE_REGISTRY_ARN: RegistryArn!,
        AVRO_JSON_TOPIC: topics.avroJson,
        AVRO_SOURCE_TOPIC: topics.avroSource,
        PROTO_JSON_TOPIC: topics.protoJson,
        PROTO_SOURCE_TOPIC: topics.protoSource,
        DLQ_TOPIC: topics.dlq,
        REPORT_FILE: report,
        ORDER_PROTO,
      },
      readyPattern: /kafka: ready: 4 consumer/,
      timeoutMs: 120_000,
    });
  }, 180_000);

  afterAll(async () => {
    await offline?.stop();
    await moto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('Avro as JSON, compressed or not, with the version UUID as schemaId; an unknown version is SCHEMA_NOT_FOUND', async () => {
    const unknown = '00000000-1111-4222-8333-444444444444';
    await produceRaw(topics.avroJson, [
      glueFrame(versions.quote, quoteType.toBuffer({ productId: 'p-1', quantity: 2 })),
      glueFrame(unknown, quoteType.toBuffer({ productId: 'p-x', quantity: 1 })),
      glueFrame(versions.quote, quoteType.toBuffer({ productId: 'p-3', quantity: 3 }), true),
    ]);
    await waitFor(() => delivered(topics.avroJson).length === 2, { timeoutMs: 30_000, what: 'two quotes' });
    const got = delivered(topics.avroJson);
    expect(got.map((d) => [d.offset, JSON.parse(Buffer.from(d.value, 'base64').toString())])).toEqual([
      [0, { productId: 'p-1', quantity: 2 }],
      [2, { productId: 'p-3', quantity: 3 }],
    ]);
    expect(got[0]!.valueSchemaMetadata).toEqual({ dataFormat: 'AVRO', schemaId: versions.quote });

    const [failure] = await consumeRecords(topics.dlq, 1);
    const body = JSON.parse(String(failure!.value)) as {
      requestContext: { condition: string };
      KafkaBatchInfo: { recordInfo: { offset: string } };
    };
    expect([body.KafkaBatchInfo.recordInfo.offset, body.requestContext.condition]).toEqual(['1', 'SCHEMA_NOT_FOUND']);
    expect(offline.output()).toMatch(
      new RegExp(`SCHEMA_NOT_FOUND: VALUE: schema id ${unknown} is not in arn:aws:glue:`),
    );
  });

  it('Avro as SOURCE: the bytes after the frame, inflated; Protobuf as JSON: the message its index names', async () => {
    const avroBody = quoteType.toBuffer({ productId: 'p-7', quantity: 7 });
    await produceRaw(topics.avroSource, [glueFrame(versions.quote, avroBody, true)]);
    await produceRaw(topics.protoJson, [glueFrame(versions.order, orderPayload('o-1', 1999))]);
    await waitFor(() => delivered(topics.avroSource).length === 1 && delivered(topics.protoJson).length === 1, {
      timeoutMs: 30_000,
      what: 'one record each',
    });
    const [source] = delivered(topics.avroSource);
    expect(Buffer.from(source!.value, 'base64').equals(avroBody)).toBe(true);
    const [json] = delivered(topics.protoJson);
    expect(JSON.parse(Buffer.from(json!.value, 'base64').toString())).toEqual({ orderId: 'o-1', totalCents: '1999' });
    expect(json!.valueSchemaMetadata).toEqual({ dataFormat: 'PROTOBUF', schemaId: versions.order });
  });

  it("Protobuf as SOURCE, compressed or not, which Powertools' kafkaConsumer decodes unchanged", async () => {
    await produceRaw(topics.protoSource, [
      glueFrame(versions.order, orderPayload('o-2', 5)),
      glueFrame(versions.order, orderPayload('o-3', 6), true),
    ]);
    await waitFor(() => delivered(topics.protoSource).length === 2, { timeoutMs: 30_000, what: 'two orders' });
    // Powertools skips the message index when the schema id is a UUID (Glue), as Lambda leaves it there
    expect(delivered(topics.protoSource).map((d) => d.decoded)).toEqual([
      { orderId: 'o-2', totalCents: '5' },
      { orderId: 'o-3', totalCents: '6' },
    ]);
  });
});
