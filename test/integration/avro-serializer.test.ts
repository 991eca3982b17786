import avro from 'avsc';
import { ValidationError } from '../../lib/errors';
import { ANALYTICS_FACT_AVRO } from '../../lib/orders/analytics';
import {
  SchemaRegistryRefusedError,
  SchemaRegistryUnavailableError,
  createAvroSerializer,
} from '../../lib/schema-registry/avro';
import { startRegistry, type Registry } from '../../broker/registry';
import { freePort } from '../helpers/offline';

// lib/schema-registry against the real registry process (franz-go's srfake, Confluent's REST API)

const fact = {
  id: 'f-1',
  type: 'analytics.recorded',
  occurredAt: '2026-12-07T10:00:00.000Z',
  correlationId: 'corr-1',
  causationId: 'e-1',
  payload: {
    listener: 'update-analytics',
    orderId: 'o-1',
    customerId: 'c-1',
    outcome: 'fulfilled',
    revenueCents: 2500,
    currency: 'EUR',
  },
};

describe('the Avro serializer with a schema registry', () => {
  let registry: Registry;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    registry = await startRegistry({ port, basicAuth: 'svc:s3cret' });
  }, 120_000);
  afterAll(async () => {
    await registry?.stop();
  });

  const serializer = (subject: string, registryUrl = `http://svc:s3cret@127.0.0.1:${port}`) =>
    createAvroSerializer<typeof fact>({ registryUrl, subject, schema: ANALYTICS_FACT_AVRO, timeoutMs: 2000 });

  it('registers the schema once under the subject and writes Confluent frames the registry schema decodes', async () => {
    // Act
    const writer = serializer('orders-a-value');
    const [first, second] = await Promise.all([writer.serialize(fact), writer.serialize(fact)]);
    const again = await serializer('orders-a-value').schemaId(); // another container, same schema

    // Assess: magic byte 0, the id the registry gave, then the Avro body of the registered schema
    const id = first.readInt32BE(1);
    expect(first[0]).toBe(0);
    expect(second.equals(first)).toBe(true);
    expect(again).toBe(id);
    const auth = { authorization: `Basic ${Buffer.from('svc:s3cret').toString('base64')}` };
    const stored = (await (await fetch(`${registry.url}/schemas/ids/${id}`, { headers: auth })).json()) as {
      schema: string;
    };
    const decoded = avro.Type.forSchema(JSON.parse(stored.schema) as avro.Schema).fromBuffer(first.subarray(5));
    expect(JSON.parse(JSON.stringify(decoded))).toEqual(fact);
    const versions = await (await fetch(`${registry.url}/subjects/orders-a-value/versions`, { headers: auth })).json();
    expect(versions).toEqual([1]);
  });

  it('a value that breaks the schema is a ValidationError naming the field; nothing is registered for it', async () => {
    const writer = serializer('orders-b-value');
    const bad = { ...fact, payload: { ...fact.payload, outcome: 'lost', revenueCents: 'a lot' } };
    const error = await writer.serialize(bad as unknown as typeof fact).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details).toEqual(['payload.outcome: "lost"', 'payload.revenueCents: "a lot"']);
  });

  it('wrong credentials are refused (not retriable); an unreachable registry is retriable, and tried again', async () => {
    const refused = await serializer('orders-c-value', `http://svc:wrong@127.0.0.1:${port}`)
      .serialize(fact)
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SchemaRegistryRefusedError);
    expect((refused as SchemaRegistryRefusedError).retriable).toBe(false);
    expect((refused as Error).message).toMatch(/refused the schema of orders-c-value \(403\): .*not authorized/);

    const closed = await freePort();
    const writer = serializer('orders-c-value', `http://svc:s3cret@127.0.0.1:${closed}`);
    const unreachable = await writer.serialize(fact).catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(SchemaRegistryUnavailableError);
    expect((unreachable as SchemaRegistryUnavailableError).retriable).toBe(true);
    expect((unreachable as Error).message).toMatch(/the schema registry at http:\/\/127\.0\.0\.1:\d+ cannot be asked/);
    // the failed registration is not kept: the next call asks again (here: still nobody there)
    await expect(writer.schemaId()).rejects.toBeInstanceOf(SchemaRegistryUnavailableError);
  });
});
