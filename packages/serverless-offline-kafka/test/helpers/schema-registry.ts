/**
 * What the schema-registry tests produce: records framed as Confluent's and AWS Glue's serializers frame
 * them, and the Avro schema of a quote (`{ productId: string, quantity: int }`) with its avsc type.
 */
import { deflateSync } from 'node:zlib';
import avro from 'avsc';

/** Confluent framing: magic byte 0, the schema id (4 bytes big-endian), then the payload. */
export function confluentFrame(schemaId: number, payload: Uint8Array): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(schemaId, 1);
  return Buffer.concat([header, payload]);
}

/**
 * AWS Glue framing: header version 3, compression (0 none, 5 zlib), the schema version UUID (16 bytes),
 * then the payload, deflated when `compress` is set.
 */
export function glueFrame(versionId: string, payload: Uint8Array, compress = false): Buffer {
  const header = Buffer.concat([Buffer.from([3, compress ? 5 : 0]), Buffer.from(versionId.replace(/-/g, ''), 'hex')]);
  return Buffer.concat([header, compress ? deflateSync(payload) : payload]);
}

export const QUOTE_AVRO = JSON.stringify({
  type: 'record',
  name: 'Quote',
  fields: [
    { name: 'productId', type: 'string' },
    { name: 'quantity', type: 'int' },
  ],
});
export const quoteType = avro.Type.forSchema(JSON.parse(QUOTE_AVRO) as avro.Schema);
