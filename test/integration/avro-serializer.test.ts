import { CreateRegistryCommand, GetSchemaVersionCommand, GlueClient } from '@aws-sdk/client-glue';
import avro from 'avsc';
import { motoClientConfig, startMoto, type Moto } from '../../broker/moto';
import { startRegistry, type Registry } from '../../broker/registry';
import { ValidationError } from '../../lib/errors';
import { ANALYTICS_FACT_AVRO } from '../../lib/orders/analytics';
import { createAvroSerializer } from '../../lib/schema-registry/avro';
import {
  SchemaRegistryRefusedError,
  SchemaRegistryUnavailableError,
  confluentSchemaHome,
  glueSchemaHome,
} from '../../lib/schema-registry/registries';
import { freePort } from '../helpers/offline';

// lib/schema-registry against real registry processes: franz-go's srfake (Confluent's REST API) and moto's Glue

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
const SCHEMA = JSON.stringify(ANALYTICS_FACT_AVRO);
const decode = (schema: string, body: Buffer) =>
  JSON.parse(JSON.stringify(avro.Type.forSchema(JSON.parse(schema) as avro.Schema).fromBuffer(body))) as unknown;

describe('the Avro serializer with a Confluent-compatible registry', () => {
  let registry: Registry;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    registry = await startRegistry({ port, basicAuth: 'svc:s3cret' });
  }, 120_000);
  afterAll(async () => {
    await registry?.stop();
  });

  const home = (subject: string, registryUrl = `http://svc:s3cret@127.0.0.1:${port}`) =>
    confluentSchemaHome({ registryUrl, subject, schema: SCHEMA, timeoutMs: 2000 });
  const serializer = (subject: string, registryUrl?: string) =>
    createAvroSerializer<typeof fact>({ home: home(subject, registryUrl), schema: ANALYTICS_FACT_AVRO, name: subject });

  it('registers the schema once under the subject and writes Confluent frames the registry schema decodes', async () => {
    // Act
    const writer = serializer('orders-a-value');
    const [first, second] = await Promise.all([writer.serialize(fact), writer.serialize(fact)]);
    const again = await home('orders-a-value').schemaId(); // another container, same schema

    // Assess: magic byte 0, the id the registry gave, then the Avro body of the registered schema
    const id = first.readInt32BE(1);
    expect(first[0]).toBe(0);
    expect(second.equals(first)).toBe(true);
    expect(again).toBe(String(id));
    const auth = { authorization: `Basic ${Buffer.from('svc:s3cret').toString('base64')}` };
    const stored = (await (await fetch(`${registry.url}/schemas/ids/${id}`, { headers: auth })).json()) as {
      schema: string;
    };
    expect(decode(stored.schema, first.subarray(5))).toEqual(fact);
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
    const unreachableHome = home('orders-c-value', `http://svc:s3cret@127.0.0.1:${closed}`);
    const unreachable = await unreachableHome.header().catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(SchemaRegistryUnavailableError);
    expect((unreachable as SchemaRegistryUnavailableError).retriable).toBe(true);
    expect((unreachable as Error).message).toMatch(/the schema registry at http:\/\/127\.0\.0\.1:\d+ cannot be asked/);
    // the failed registration is not kept: the next call asks again (here: still nobody there)
    await expect(unreachableHome.schemaId()).rejects.toBeInstanceOf(SchemaRegistryUnavailableError);
  });
});

describe('the Avro serializer with an AWS Glue registry (moto)', () => {
  let moto: Moto;
  let glue: GlueClient;
  let registryArn: string;

  beforeAll(async () => {
    moto = await startMoto(await freePort());
    glue = new GlueClient(motoClientConfig(moto));
    registryArn = (await glue.send(new CreateRegistryCommand({ RegistryName: 'facts' }))).RegistryArn!;
  }, 120_000);
  afterAll(async () => {
    await moto?.stop();
  });

  it('creates the schema on first use, then finds the same version; writes Glue frames its version decodes', async () => {
    // Act: two containers, the first creates the schema, the second registers the identical definition
    const first = createAvroSerializer<typeof fact>({
      home: glueSchemaHome({ registryArn, schemaName: 'order-analytics', schema: SCHEMA, glue }),
      schema: ANALYTICS_FACT_AVRO,
      name: 'order-analytics',
    });
    const value = await first.serialize(fact);
    const secondHome = glueSchemaHome({ registryArn, schemaName: 'order-analytics', schema: SCHEMA, glue });

    // Assess: header version 3, no compression, the version UUID, then the Avro body
    const uuid = value.subarray(2, 18).toString('hex');
    const versionId = `${uuid.slice(0, 8)}-${uuid.slice(8, 12)}-${uuid.slice(12, 16)}-${uuid.slice(16, 20)}-${uuid.slice(20)}`;
    expect([value[0], value[1]]).toEqual([3, 0]);
    expect(await secondHome.schemaId()).toBe(versionId);
    const version = await glue.send(new GetSchemaVersionCommand({ SchemaVersionId: versionId }));
    expect(version.DataFormat).toBe('AVRO');
    expect(decode(version.SchemaDefinition!, value.subarray(18))).toEqual(fact);
  });

  it('two containers registering a new schema at once get the same version', async () => {
    const home = () => glueSchemaHome({ registryArn, schemaName: 'raced', schema: SCHEMA, glue });
    const [a, b, c] = await Promise.all([home().schemaId(), home().schemaId(), home().schemaId()]);
    expect(new Set([a, b, c]).size).toBe(1);
  });

  it('a registry that does not exist is refused with its name; no Glue endpoint is retriable', async () => {
    const missing = registryArn.replace(/registry\/facts$/, 'registry/nope');
    const error = await glueSchemaHome({ registryArn: missing, schemaName: 't', schema: SCHEMA, glue })
      .schemaId()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaRegistryRefusedError);
    expect((error as Error).message).toMatch(/registry\/nope refused the schema t/);

    const closed = { endpoint: `http://127.0.0.1:${await freePort()}` };
    const nowhere = new GlueClient({ ...motoClientConfig(closed), maxAttempts: 1 });
    const down = await glueSchemaHome({ registryArn, schemaName: 't', schema: SCHEMA, glue: nowhere })
      .schemaId()
      .catch((e: unknown) => e);
    expect(down).toBeInstanceOf(SchemaRegistryUnavailableError);
  });
});
