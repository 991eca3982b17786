import avro from 'avsc';
import type { Config } from '../config';
import { rootMessage } from '../deadline';
import { AppError, ConfigError, ValidationError } from '../errors';
import type { EnvelopeEncoding } from '../kafka/envelope';

/**
 * Confluent's wire format (docs.confluent.io, Schema Registry "Wire format"): magic byte 0, the schema's
 * registry id as a 4-byte big-endian int, then the Avro binary encoding. What Confluent's serializers
 * write, and what Lambda's event source reads with a Confluent-compatible `schemaRegistryConfig`.
 */
const MAGIC_BYTE = 0;
/** The content-type header of such a record: the Avro specification's name for its binary encoding. */
export const AVRO_CONTENT_TYPE = 'avro/binary';
const HEADER_BYTES = 5;

/** The schema registry could not be asked or failed (5xx): retriable, the record is delivered again. */
export class SchemaRegistryUnavailableError extends AppError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'SCHEMA_REGISTRY_UNAVAILABLE', statusCode: 503, retriable: true, cause });
    this.name = 'SchemaRegistryUnavailableError';
  }
}

/** The registry refused the schema (4xx: incompatible with the subject, bad credentials): not retriable. */
export class SchemaRegistryRefusedError extends AppError {
  constructor(message: string) {
    super(message, { code: 'SCHEMA_REGISTRY_REFUSED', statusCode: 500 });
    this.name = 'SchemaRegistryRefusedError';
  }
}

export interface AvroSerializer<T> {
  /** the registry id of the schema, registered under the subject on first use */
  schemaId(): Promise<number>;
  /** `value` in Confluent's wire format; ValidationError naming each field that breaks the schema */
  serialize(value: T): Promise<Buffer>;
}

/** A registry URL may carry `user:password@` (Confluent Cloud's API key): fetch takes it as a header instead. */
function splitCredentials(registryUrl: string): { base: string; authorization?: string } {
  const url = new URL(registryUrl);
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  const base = url.toString().replace(/\/$/, '');
  if (!user) return { base };
  return { base, authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

/**
 * Serializes values with one Avro schema, registered in a Confluent-compatible schema registry under
 * `subject` (TopicNameStrategy: `<topic>-value`) the first time it is needed, as Confluent's own
 * serializers do. Registering a schema the subject already has returns its id; the id is kept for the
 * container's life, and a failed registration is tried again by the next call.
 *
 * @example
 * const facts = createAvroSerializer({ registryUrl: 'http://127.0.0.1:8081', subject: 'order-analytics-value', schema, timeoutMs: 5000 });
 * await publisher.publish('order-analytics', [{ key, value: await facts.serialize(fact) }]);
 */
export function createAvroSerializer<T>(options: {
  registryUrl: string;
  subject: string;
  /** the Avro schema as JSON (a record type) */
  schema: avro.Schema;
  /** the deadline of the registration request */
  timeoutMs: number;
  fetch?: typeof fetch;
}): AvroSerializer<T> {
  const { subject, timeoutMs } = options;
  const doFetch = options.fetch ?? fetch;
  const type = avro.Type.forSchema(options.schema);
  const { base, authorization } = splitCredentials(options.registryUrl);
  let registered: Promise<number> | undefined;

  const register = async (): Promise<number> => {
    const where = `the schema registry at ${base}`;
    let response: Response;
    try {
      response = await doFetch(`${base}/subjects/${encodeURIComponent(subject)}/versions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/vnd.schemaregistry.v1+json',
          ...(authorization ? { authorization } : {}),
        },
        body: JSON.stringify({ schema: JSON.stringify(options.schema) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new SchemaRegistryUnavailableError(`${where} cannot be asked: ${rootMessage(error)}`, error);
    }
    const text = (await response.text().catch(() => '')).trim();
    if (response.status >= 500) {
      throw new SchemaRegistryUnavailableError(`${where} answered ${response.status} registering ${subject}: ${text}`);
    }
    if (!response.ok) {
      throw new SchemaRegistryRefusedError(
        `${where} refused the schema of ${subject} (${response.status}): ${text}` +
          (response.status === 409 ? ' — it is incompatible with the versions the subject has' : ''),
      );
    }
    const id = (JSON.parse(text) as { id?: unknown }).id;
    if (typeof id !== 'number') throw new SchemaRegistryUnavailableError(`${where} answered without an id: ${text}`);
    return id;
  };

  const schemaId = (): Promise<number> => {
    if (!registered) {
      const attempt = register();
      registered = attempt;
      attempt.catch(() => {
        if (registered === attempt) registered = undefined;
      });
    }
    return registered;
  };

  return {
    schemaId,
    async serialize(value) {
      const problems: string[] = [];
      const valid = type.isValid(value, {
        errorHook: (path, found) => problems.push(`${path.join('.') || '(value)'}: ${JSON.stringify(found)}`),
      });
      if (!valid) throw new ValidationError(`the value does not match the Avro schema of ${subject}`, problems);
      const id = await schemaId();
      const body = type.toBuffer(value);
      const header = Buffer.alloc(HEADER_BYTES);
      header.writeUInt8(MAGIC_BYTE, 0);
      header.writeInt32BE(id, 1);
      return Buffer.concat([header, body]);
    },
  };
}

const encodings = new WeakMap<object, Map<string, EnvelopeEncoding>>();

/**
 * Envelopes for `topic` (a real name) in Avro, `schema` registered under `<topic>-value` in the registry at
 * SCHEMA_REGISTRY_URL on first use (ConfigError when it is unset): one per topic and container (`config`).
 * Only the functions that write Avro import this module, so only their bundles carry avsc.
 *
 * @example
 * handle: (event, rt) => updateAnalytics(event, { ...rt, facts: avroEnvelopes(rt.config, rt.topics.orderAnalytics, schema) })
 */
export function avroEnvelopes(
  config: Pick<Config, 'schemaRegistryUrl' | 'publishTimeoutMs'>,
  topic: string,
  schema: avro.Schema,
): EnvelopeEncoding {
  let byTopic = encodings.get(config);
  if (!byTopic) encodings.set(config, (byTopic = new Map()));
  let encoding = byTopic.get(topic);
  if (!encoding) {
    if (!config.schemaRegistryUrl) {
      throw new ConfigError([
        `SCHEMA_REGISTRY_URL is required: ${topic} is written in Avro, its schema registered there`,
      ]);
    }
    const serializer = createAvroSerializer({
      registryUrl: config.schemaRegistryUrl,
      subject: `${topic}-value`,
      schema,
      timeoutMs: config.publishTimeoutMs,
    });
    encoding = { contentType: AVRO_CONTENT_TYPE, encode: (envelope) => serializer.serialize(envelope) };
    byTopic.set(topic, encoding);
  }
  return encoding;
}
