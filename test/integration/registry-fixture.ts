/**
 * What the event source's registry tests (schema-registry.test.ts: Confluent; glue-registry.test.ts: Glue)
 * share with their fixture service (test/fixtures/schema-registry): the Protobuf file of an order, the
 * report its handlers append each delivered record to, and a producer of raw values.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import protobuf from 'protobufjs';
import { testKafka } from '../helpers/kafka';

export const FIXTURE = resolve(__dirname, '..', 'fixtures', 'schema-registry');

/** The fixture's Protobuf file (ORDER_PROTO); Powertools' handler decodes shop.Order with it. */
export const ORDER_PROTO =
  'syntax = "proto3";\npackage shop;\nmessage Header { string id = 1; }\nmessage Order { string order_id = 1; int64 total_cents = 2; }\n';
export const Order = protobuf.parse(ORDER_PROTO).root.lookupType('shop.Order');

/** One line of the report: the record as the handler got it, or what Powertools decoded. */
export interface Delivered {
  topic: string;
  offset: number;
  key?: string;
  value: string;
  keySchemaMetadata?: object;
  valueSchemaMetadata?: object;
  decoded?: object;
}

/** The records of `topic` the fixture's handlers reported in `reportFile`, in arrival order. */
export function delivered(reportFile: string, topic: string): Delivered[] {
  try {
    return readFileSync(reportFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Delivered)
      .filter((d) => d.topic === topic);
  } catch {
    return [];
  }
}

/** Produce `values` (and `keys`) to `topic` as they are. */
export async function produceRaw(topic: string, values: Buffer[], keys?: Buffer[]): Promise<void> {
  const producer = testKafka('registry-producer').producer();
  await producer.connect();
  await producer.send({ topic, messages: values.map((value, i) => ({ value, key: keys?.[i] ?? null })) });
  await producer.disconnect();
}
