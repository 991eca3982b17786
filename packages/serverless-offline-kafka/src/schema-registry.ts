/**
 * An event's schema registry, as Lambda's Kafka event source applies it
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-consume-kafka-events.html), with the settings
 * ./schema-registry-settings read: each record's selected attributes (KEY, VALUE) looked up
 * in the registry (Confluent-compatible over HTTP, or AWS Glue through its API) by the schema id of
 * their wire frame, deserialized, and delivered as JSON or as the
 * source bytes without the frame, with `keySchemaMetadata` / `valueSchemaMetadata`. A record whose schema
 * the registry does not have, or whose bytes do not deserialize, is a failure of that record
 * (SCHEMA_NOT_FOUND, DESERIALIZATION_ERROR); a registry that cannot be reached is not: nothing moves
 * until it answers.
 */
import { OfflineKafkaError } from './errors';
import type { LambdaKafkaRecord, SchemaMetadata } from './event';
import { FAILURE_CONDITIONS } from './failure-destination';
import { createGlueSchemaReader, type GlueSchemaReader } from './glue-schemas';
import { createSchemaDecoder, readFrame, type Frame, type RegistrySchema, type SchemaDecoder } from './schema-wire';
import type { SchemaRegistrySettings } from './schema-registry-settings';
import type { SecretReader } from './secrets';

/** The registry could not be asked (network, 5xx, refused credentials): the records wait for it. */
export class SchemaRegistryUnavailableError extends OfflineKafkaError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'OFFLINE_KAFKA_SCHEMA_REGISTRY', retriable: true, cause });
    this.name = 'SchemaRegistryUnavailableError';
  }
}

/** What each wire frame starts with, for the line of a record without one. */
const FRAMES = {
  confluent: 'magic byte 0, schema id',
  glue: 'header version 3, compression, schema version UUID',
} as const;

type SchemaFailureCondition = typeof FAILURE_CONDITIONS.schemaNotFound | typeof FAILURE_CONDITIONS.deserializationError;

/** A record ready to be delivered, or the reason it cannot be. */
export type PreparedRecord =
  | { record: LambdaKafkaRecord; filterValue?: string }
  | { record: LambdaKafkaRecord; failure: { condition: SchemaFailureCondition; message: string } };

export interface SchemaRegistryDeps {
  settings: SchemaRegistrySettings;
  readSecret: SecretReader;
  /** what the registry's outages and recoveries say (once each) */
  log(level: 'notice' | 'warning', message: string): void;
  fetch?: typeof fetch;
  /** how a Glue registry's schema versions are read (default: the Glue API with the AWS SDK) */
  readGlueSchema?: GlueSchemaReader;
}

/** One event source's view of its registry: schemas fetched by id (and kept), records prepared. */
export class SchemaRegistry {
  readonly #deps: SchemaRegistryDeps;
  readonly #decoders = new Map<string, Promise<SchemaDecoder | undefined>>();
  readonly #wire: 'confluent' | 'glue';
  readonly #readGlueSchema: GlueSchemaReader;
  #down: string | undefined;

  constructor(deps: SchemaRegistryDeps) {
    this.#deps = deps;
    this.#wire = deps.settings.kind;
    this.#readGlueSchema = deps.readGlueSchema ?? createGlueSchemaReader();
  }

  /**
   * The record with its selected attributes deserialized (JSON) or unframed (SOURCE), and their schema
   * metadata; or its failure. Throws SchemaRegistryUnavailableError while the registry cannot be asked.
   */
  async prepare(record: LambdaKafkaRecord): Promise<PreparedRecord> {
    const { eventRecordFormat, attributes } = this.#deps.settings;
    const out: LambdaKafkaRecord = { ...record };
    let filterValue: string | undefined;
    for (const attribute of attributes) {
      const field = attribute === 'KEY' ? 'key' : 'value';
      const bytes = Buffer.from(record[field] ?? '', 'base64');
      const fail = (condition: SchemaFailureCondition, message: string): PreparedRecord => ({
        record,
        failure: { condition, message: `${attribute}: ${message}` },
      });
      let frame: Frame | undefined;
      try {
        frame = readFrame(this.#wire, bytes);
      } catch (error) {
        return fail(FAILURE_CONDITIONS.deserializationError, (error as Error).message);
      }
      if (!frame)
        return fail(FAILURE_CONDITIONS.deserializationError, `no schema registry wire frame (${FRAMES[this.#wire]})`);
      let decoder: SchemaDecoder | undefined;
      try {
        decoder = await this.#decoder(frame.schemaId);
      } catch (error) {
        if (error instanceof SchemaRegistryUnavailableError) throw error;
        return fail(
          FAILURE_CONDITIONS.deserializationError,
          `schema id ${frame.schemaId} cannot be used: ${(error as Error).message}`,
        );
      }
      if (!decoder)
        return fail(
          FAILURE_CONDITIONS.schemaNotFound,
          `schema id ${frame.schemaId} is not in ${this.#deps.settings.uri}`,
        );
      let decoded: unknown;
      try {
        decoded = decoder.decode(frame.payload);
      } catch (error) {
        return fail(FAILURE_CONDITIONS.deserializationError, (error as Error).message);
      }
      const json = Buffer.from(JSON.stringify(decoded)).toString('base64');
      out[field] = eventRecordFormat === 'JSON' ? json : frame.payload.toString('base64');
      const metadata: SchemaMetadata = { dataFormat: decoder.dataFormat, schemaId: frame.schemaId };
      if (attribute === 'KEY') out.keySchemaMetadata = metadata;
      else {
        out.valueSchemaMetadata = metadata;
        // filters apply to the deserialized record, whatever is delivered
        if (eventRecordFormat === 'SOURCE') filterValue = json;
      }
    }
    return { record: out, ...(filterValue === undefined ? {} : { filterValue }) };
  }

  /** The decoder of schema `id`, undefined when the registry does not have it. */
  #decoder(id: string): Promise<SchemaDecoder | undefined> {
    let decoder = this.#decoders.get(id);
    if (!decoder) {
      const schema = this.#wire === 'glue' ? this.#glueSchema(id) : this.#fetchSchema(id);
      decoder = schema.then((found) => (found ? createSchemaDecoder(found, this.#wire) : undefined));
      this.#decoders.set(id, decoder);
      // only a schema is kept: a missing one may be registered later, an outage ends
      decoder.then(
        (d) => d ?? this.#decoders.delete(id),
        () => this.#decoders.delete(id),
      );
    }
    return decoder;
  }

  async #glueSchema(versionId: string): Promise<RegistrySchema | undefined> {
    let schema: RegistrySchema | undefined;
    try {
      schema = await this.#readGlueSchema(this.#deps.settings.glueRegion!, versionId);
    } catch (error) {
      throw this.#unavailable(`${(error as Error).name}: ${(error as Error).message}`, error);
    }
    return this.#answered(schema);
  }

  /** A Confluent-compatible registry's `GET /schemas/ids/{id}`; undefined on 404. */
  async #fetchSchema(id: string): Promise<RegistrySchema | undefined> {
    const { settings, readSecret } = this.#deps;
    const url = `${settings.uri}/schemas/ids/${id}`;
    let response: Response;
    try {
      const headers: Record<string, string> = { accept: 'application/vnd.schemaregistry.v1+json' };
      if (settings.basicAuthSecretArn) {
        const { username, password } = await readSecret(settings.basicAuthSecretArn);
        headers.authorization = `Basic ${Buffer.from(`${String(username)}:${String(password)}`).toString('base64')}`;
      }
      response = await (this.#deps.fetch ?? fetch)(url, { headers, signal: AbortSignal.timeout(10_000) });
    } catch (error) {
      // fetch says "fetch failed" and puts the reason (ECONNREFUSED, …) in its cause
      const { message, cause } = error as Error & { cause?: Error };
      throw this.#unavailable(cause ? `${message} (${cause.message})` : message, error);
    }
    if (response.status === 404) return this.#answered(undefined);
    if (!response.ok)
      throw this.#unavailable(`HTTP ${response.status} ${await response.text().catch(() => '')}`.trim());
    return this.#answered((await response.json()) as RegistrySchema);
  }

  #answered<T>(value: T): T {
    if (this.#down !== undefined) {
      this.#down = undefined;
      this.#deps.log('notice', `schema registry ${this.#deps.settings.uri} answers again`);
    }
    return value;
  }

  #unavailable(reason: string, cause?: unknown): SchemaRegistryUnavailableError {
    if (this.#down === undefined) {
      this.#deps.log(
        'warning',
        `schema registry ${this.#deps.settings.uri} cannot be asked (${reason}): the records wait, nothing is committed; retrying quietly`,
      );
    }
    this.#down = reason;
    return new SchemaRegistryUnavailableError(`schema registry ${this.#deps.settings.uri}: ${reason}`, cause);
  }
}
