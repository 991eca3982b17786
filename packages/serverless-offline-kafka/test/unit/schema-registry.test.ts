import avro from 'avsc';
import type { LambdaKafkaRecord } from '../../src/event';
import { SchemaRegistry, SchemaRegistryUnavailableError } from '../../src/schema-registry';
import { readLocalSchemaRegistrySettings, readSchemaRegistrySettings } from '../../src/schema-registry-settings';
import { confluentFrame, QUOTE_AVRO, quoteType } from '../helpers/schema-registry';

const record = (value: Buffer, key?: Buffer): LambdaKafkaRecord => ({
  topic: 'quotes',
  partition: 0,
  offset: 7,
  timestamp: 0,
  timestampType: 'CREATE_TIME',
  ...(key ? { key: key.toString('base64') } : {}),
  value: value.toString('base64'),
  headers: [],
});
const decoded = (base64: string | undefined) => JSON.parse(Buffer.from(base64!, 'base64').toString()) as unknown;

/** A registry answering GET /schemas/ids/{id} from `schemas`, counting calls; `down` makes it refuse. */
function fakeRegistry(schemas: Record<number, object>) {
  const calls: { url: string; authorization?: string }[] = [];
  const state = { down: false };
  const fetchFn = (async (url: string, init?: RequestInit) => {
    calls.push({ url, authorization: (init?.headers as Record<string, string>).authorization });
    if (state.down) throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:8081') });
    const id = Number(url.split('/').pop());
    const schema = schemas[id];
    return schema ? Response.json(schema) : Response.json({ error_code: 40403 }, { status: 404 });
  }) as typeof fetch;
  return { fetchFn, calls, state };
}

const settings = (over: object = {}) =>
  readSchemaRegistrySettings('function "f", kafka event', {
    provisionedPollerConfig: { minimumPollers: 1 },
    schemaRegistryConfig: {
      schemaRegistryURI: 'http://127.0.0.1:8081/',
      eventRecordFormat: 'JSON',
      schemaValidationConfigs: [{ attribute: 'VALUE' }],
      ...over,
    },
  })!;

describe('schemaRegistryConfig', () => {
  it('is read as AWS names it, and refused with what to change', () => {
    expect(settings()).toEqual({
      uri: 'http://127.0.0.1:8081',
      kind: 'confluent',
      eventRecordFormat: 'JSON',
      attributes: ['VALUE'],
      accessConfigs: [],
      basicAuthSecretArn: undefined,
    });
    const read = (raw: Record<string, unknown>) => () => readSchemaRegistrySettings('function "f", kafka event', raw);
    const registry = {
      schemaRegistryURI: 'http://r',
      eventRecordFormat: 'JSON',
      schemaValidationConfigs: [{ attribute: 'VALUE' }],
    };
    expect(read({ schemaRegistryConfig: registry })).toThrow(
      'function "f", kafka event: schemaRegistryConfig needs provisionedPollerConfig on the same event',
    );
    const provisioned = { provisionedPollerConfig: {} };
    expect(read({ ...provisioned, schemaRegistryConfig: { ...registry, eventRecordFormat: 'XML' } })).toThrow(
      'eventRecordFormat must be JSON or SOURCE',
    );
    expect(read({ ...provisioned, schemaRegistryConfig: { ...registry, schemaValidationConfigs: [] } })).toThrow(
      'schemaValidationConfigs must list',
    );
    expect(
      read({
        ...provisioned,
        schemaRegistryConfig: { ...registry, schemaRegistryURI: 'arn:aws:glue:eu-west-1:1:registry/r' },
      }),
    ).toThrow('is not a Glue registry ARN (arn:aws:glue:<region>:<account>:registry/<name>)');
    const glue = 'arn:aws:glue:eu-west-1:123456789012:registry/orders';
    expect(settings({ schemaRegistryURI: glue })).toMatchObject({ uri: glue, kind: 'glue', glueRegion: 'eu-west-1' });
    expect(() =>
      settings({ schemaRegistryURI: glue, accessConfigs: [{ type: 'BASIC_AUTH', uri: 'arn:aws:secretsmanager:x' }] }),
    ).toThrow('accessConfigs are for Confluent registries');
    // deployed as written; refused locally, where it would not be applied
    const tls = {
      provisionedPollerConfig: { minimumPollers: 1 },
      schemaRegistryConfig: {
        ...registry,
        accessConfigs: [{ type: 'SERVER_ROOT_CA_CERTIFICATE', uri: 'arn:aws:secretsmanager:eu-west-1:1:secret:ca' }],
      },
    };
    expect(readSchemaRegistrySettings('f', tls)!.accessConfigs).toEqual([
      { type: 'SERVER_ROOT_CA_CERTIFICATE', uri: 'arn:aws:secretsmanager:eu-west-1:1:secret:ca' },
    ]);
    expect(() => readLocalSchemaRegistrySettings('f', tls)).toThrow(
      'f: schemaRegistryConfig accessConfigs SERVER_ROOT_CA_CERTIFICATE are not applied locally yet; BASIC_AUTH is',
    );
    expect(() =>
      readSchemaRegistrySettings('f', {
        ...tls,
        schemaRegistryConfig: { ...registry, accessConfigs: [{ type: 'MAGIC', uri: 'x' }] },
      }),
    ).toThrow('accessConfigs: each must be { type: BASIC_AUTH | CLIENT_CERTIFICATE_TLS_AUTH');
    expect(readSchemaRegistrySettings('f', {})).toBeUndefined();
  });
});

describe('SchemaRegistry.prepare', () => {
  const logs: string[] = [];
  const log = (level: string, message: string) => logs.push(`${level}: ${message}`);
  const noSecrets = async () => ({});

  it('JSON: the value deserialized with the schema its frame names (fetched once), with valueSchemaMetadata', async () => {
    const { fetchFn, calls } = fakeRegistry({ 3: { schema: QUOTE_AVRO } });
    const registry = new SchemaRegistry({ settings: settings(), readSecret: noSecrets, log, fetch: fetchFn });
    const bytes = confluentFrame(3, quoteType.toBuffer({ productId: 'p-1', quantity: 2 }));
    const first = await registry.prepare(record(bytes, Buffer.from('k')));
    const second = await registry.prepare(record(bytes));
    expect('failure' in first).toBe(false);
    expect(decoded(first.record.value)).toEqual({ productId: 'p-1', quantity: 2 });
    expect(first.record.key).toBe(Buffer.from('k').toString('base64')); // KEY not selected: as it was
    expect(first.record.valueSchemaMetadata).toEqual({ dataFormat: 'AVRO', schemaId: '3' });
    expect(first.record).not.toHaveProperty('keySchemaMetadata');
    expect(decoded(second.record.value)).toEqual({ productId: 'p-1', quantity: 2 });
    expect(calls.map((c) => c.url)).toEqual(['http://127.0.0.1:8081/schemas/ids/3']);
  });

  it('SOURCE: the bytes without the frame, filtered by the deserialized value; KEY and VALUE both', async () => {
    const { fetchFn } = fakeRegistry({ 3: { schema: QUOTE_AVRO }, 4: { schema: '{"type":"string"}' } });
    const both = settings({
      eventRecordFormat: 'SOURCE',
      schemaValidationConfigs: [{ attribute: 'KEY' }, { attribute: 'VALUE' }],
    });
    const registry = new SchemaRegistry({ settings: both, readSecret: noSecrets, log, fetch: fetchFn });
    const payload = quoteType.toBuffer({ productId: 'p-2', quantity: 5 });
    const key = avro.Type.forSchema('string').toBuffer('p-2');
    const prepared = await registry.prepare(record(confluentFrame(3, payload), confluentFrame(4, key)));
    expect(Buffer.from(prepared.record.value, 'base64')).toEqual(payload);
    expect(Buffer.from(prepared.record.key!, 'base64')).toEqual(key);
    expect(prepared.record.keySchemaMetadata).toEqual({ dataFormat: 'AVRO', schemaId: '4' });
    expect('filterValue' in prepared && decoded(prepared.filterValue)).toEqual({ productId: 'p-2', quantity: 5 });
  });

  it('an unknown schema id is SCHEMA_NOT_FOUND, bytes that do not deserialize DESERIALIZATION_ERROR', async () => {
    const { fetchFn } = fakeRegistry({ 3: { schema: QUOTE_AVRO } });
    const registry = new SchemaRegistry({ settings: settings(), readSecret: noSecrets, log, fetch: fetchFn });
    const unknown = await registry.prepare(record(confluentFrame(9, Buffer.from([2]))));
    const garbage = await registry.prepare(record(confluentFrame(3, Buffer.from([0xff, 0xff, 0xff, 0xff]))));
    const unframed = await registry.prepare(record(Buffer.from('{"plain":true}')));
    expect([unknown, garbage, unframed].map((p) => ('failure' in p ? p.failure.condition : 'ok'))).toEqual([
      'SCHEMA_NOT_FOUND',
      'DESERIALIZATION_ERROR',
      'DESERIALIZATION_ERROR',
    ]);
    expect('failure' in unknown && unknown.failure.message).toBe('VALUE: schema id 9 is not in http://127.0.0.1:8081');
  });

  it('a registry that cannot be asked throws (the records wait), told once, and its return told once', async () => {
    logs.length = 0;
    const { fetchFn, state, calls } = fakeRegistry({ 3: { schema: QUOTE_AVRO } });
    const basic = settings({
      accessConfigs: [{ type: 'BASIC_AUTH', uri: 'arn:aws:secretsmanager:eu-west-1:1:secret:sr' }],
    });
    const readSecret = async () => ({ username: 'u', password: 'p' });
    const registry = new SchemaRegistry({ settings: basic, readSecret, log, fetch: fetchFn });
    state.down = true;
    const bytes = confluentFrame(3, quoteType.toBuffer({ productId: 'p', quantity: 1 }));
    for (let i = 0; i < 3; i += 1) {
      await expect(registry.prepare(record(bytes))).rejects.toBeInstanceOf(SchemaRegistryUnavailableError);
    }
    state.down = false;
    expect('failure' in (await registry.prepare(record(bytes)))).toBe(false);
    expect(logs).toEqual([
      expect.stringMatching(
        /^warning: schema registry http:\/\/127\.0\.0\.1:8081 cannot be asked \(fetch failed \(connect ECONNREFUSED .*\)\): the records wait, nothing is committed/,
      ),
      'notice: schema registry http://127.0.0.1:8081 answers again',
    ]);
    expect(calls[0]!.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
  });
});
