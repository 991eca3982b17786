import type avro from 'avsc';
import { Type } from 'avsc/lib/types';
import type { Config } from '../config';
import { ConfigError, ValidationError } from '../errors';
import type { EnvelopeEncoding } from '../kafka/envelope';
import { GLUE_REGISTRY_ARN } from '../aws-patterns';
import { confluentSchemaHome, glueSchemaHome, type SchemaHome } from './registries';

/** The content-type header of such a record: the Avro specification's name for its binary encoding. */
export const AVRO_CONTENT_TYPE = 'avro/binary';

export interface AvroSerializer<T> {
  /** `value` after its registry's frame header; ValidationError naming each field that breaks the schema */
  serialize(value: T): Promise<Buffer>;
}

/**
 * Serializes values with one Avro schema kept in a schema registry (`home`: Confluent-compatible or Glue,
 * ./registries), the registry's frame header first, as that registry's own serializers write them.
 *
 * @example
 * const facts = createAvroSerializer({ home: confluentSchemaHome({ registryUrl, subject: 'order-analytics-value', schema: JSON.stringify(schema), timeoutMs: 5000 }), schema, name: 'order-analytics' });
 * await publisher.publish('order-analytics', [{ key, value: await facts.serialize(fact) }]);
 */
export function createAvroSerializer<T>(options: {
  home: SchemaHome;
  /** the Avro schema as JSON (a record type) */
  schema: avro.Schema;
  /** what the values are, for error messages (the subject or topic) */
  name: string;
}): AvroSerializer<T> {
  const type = Type.forSchema(options.schema);
  return {
    async serialize(value) {
      const problems: string[] = [];
      const valid = type.isValid(value, {
        errorHook: (path, found) => problems.push(`${path.join('.') || '(value)'}: ${JSON.stringify(found)}`),
      });
      if (!valid) throw new ValidationError(`the value does not match the Avro schema of ${options.name}`, problems);
      return Buffer.concat([await options.home.header(), type.toBuffer(value)]);
    },
  };
}

const encodings = new WeakMap<object, Map<string, EnvelopeEncoding>>();

/**
 * Envelopes for `topic` (a real name) in Avro, `schema` registered on first use in the registry
 * SCHEMA_REGISTRY_URL names (ConfigError when it is unset): a Confluent-compatible registry's URL (subject
 * `<topic>-value`) or a Glue registry's ARN (schema `<topic>`). One per topic and container (`config`).
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
    const url = config.schemaRegistryUrl;
    const text = JSON.stringify(schema);
    const home = GLUE_REGISTRY_ARN.test(url)
      ? glueSchemaHome({ registryArn: url, schemaName: topic, schema: text })
      : confluentSchemaHome({
          registryUrl: url,
          subject: `${topic}-value`,
          schema: text,
          timeoutMs: config.publishTimeoutMs,
        });
    const serializer = createAvroSerializer({ home, schema, name: topic });
    encoding = { contentType: AVRO_CONTENT_TYPE, encode: (envelope) => serializer.serialize(envelope) };
    byTopic.set(topic, encoding);
  }
  return encoding;
}
