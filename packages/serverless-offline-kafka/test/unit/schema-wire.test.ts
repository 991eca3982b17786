import protobuf from 'protobufjs';
import { createSchemaDecoder, readConfluentFrame, readGlueFrame, readMessageIndexes } from '../../src/schema-wire';
import { confluentFrame, glueFrame, QUOTE_AVRO, quoteType } from '../helpers/schema-registry';

const PROTO = `syntax = "proto3";
package shop;
message Other { string x = 1; }
message Order {
  string order_id = 1;
  int64 total_cents = 2;
  message Line { string sku = 1; }
  repeated Line lines = 3;
}`;

describe('Confluent wire format', () => {
  it('reads the schema id and the payload, and says when bytes are not framed', () => {
    expect(readConfluentFrame(confluentFrame(258, Buffer.from('abc')))).toEqual({
      schemaId: '258',
      payload: Buffer.from('abc'),
    });
    expect(readConfluentFrame(Buffer.from('{"plain":"json"}'))).toBeUndefined();
    expect(readConfluentFrame(Buffer.from([0, 0, 0]))).toBeUndefined();
  });

  it('reads Protobuf message indexes: a lone 0 for the first message, else the count and the path', () => {
    expect(readMessageIndexes(Buffer.from([0, 9]))).toEqual({ indexes: [0], message: Buffer.from([9]) });
    // zig-zag: count 2 → 4, index 1 → 2, index 0 → 0 (as Powertools' Confluent sample: 02 02 = [1])
    expect(readMessageIndexes(Buffer.from([4, 2, 0, 9]))).toEqual({ indexes: [1, 0], message: Buffer.from([9]) });
    expect(readMessageIndexes(Buffer.from([2, 2, 7]))).toEqual({ indexes: [1], message: Buffer.from([7]) });
  });
});

describe('decoders built from a registry schema', () => {
  it('Avro: the binary encoding to a plain object; bytes of another shape are refused', () => {
    const decoder = createSchemaDecoder({ schema: QUOTE_AVRO });
    expect(decoder.dataFormat).toBe('AVRO');
    expect({ ...(decoder.decode(quoteType.toBuffer({ productId: 'p-1', quantity: 3 })) as object) }).toEqual({
      productId: 'p-1',
      quantity: 3,
    });
    expect(() => decoder.decode(Buffer.from([0xff, 0xff, 0xff]))).toThrow();
  });

  it('Protobuf: the message the indexes name, to JSON with camelCase fields, string longs, nested messages', () => {
    const decoder = createSchemaDecoder({ schema: PROTO, schemaType: 'PROTOBUF' });
    const Order = protobuf.parse(PROTO).root.lookupType('shop.Order');
    const bytes = Order.encode({ orderId: 'o-1', totalCents: 1999, lines: [{ sku: 'kettle' }] }).finish();
    expect(decoder.decode(Buffer.concat([Buffer.from([2, 2]), bytes]))).toEqual({
      orderId: 'o-1',
      totalCents: '1999',
      lines: [{ sku: 'kettle' }],
    });
    expect(() => decoder.decode(Buffer.concat([Buffer.from([2, 10]), bytes]))).toThrow(
      /no message at index path \[5\]/,
    );
  });

  it('JSON Schema: JSON text validated against the schema', () => {
    const schema = JSON.stringify({ type: 'object', required: ['id'], properties: { id: { type: 'string' } } });
    const decoder = createSchemaDecoder({ schema, schemaType: 'JSON' });
    expect(decoder.decode(Buffer.from('{"id":"a"}'))).toEqual({ id: 'a' });
    expect(() => decoder.decode(Buffer.from('{"id":1}'))).toThrow(/does not match its schema/);
    expect(() => decoder.decode(Buffer.from('not json'))).toThrow();
  });
});

describe('AWS Glue wire format', () => {
  const versionId = 'b7b4a7f0-9c3e-4b8e-8a57-6b0d4c9e1f23';

  it('reads the schema version UUID and the payload, inflating zlib; says when bytes are not framed', () => {
    const body = quoteType.toBuffer({ productId: 'p-1', quantity: 3 });
    expect(readGlueFrame(glueFrame(versionId, body))).toEqual({ schemaId: versionId, payload: body });
    expect(readGlueFrame(glueFrame(versionId, body, true))).toEqual({ schemaId: versionId, payload: body });
    expect(readGlueFrame(confluentFrame(3, body))).toBeUndefined();
    const bad = glueFrame(versionId, body);
    bad[1] = 9;
    expect(() => readGlueFrame(bad)).toThrow('the Glue frame names compression byte 9 (0 none, 5 zlib)');
  });

  it("Protobuf: the message Glue's index names, counting every message by full name", () => {
    // Glue's order: shop.Order (0), shop.Order.Line (1), shop.Other (2)
    const decoder = createSchemaDecoder({ schema: PROTO, schemaType: 'PROTOBUF' }, 'glue');
    const root = protobuf.parse(PROTO).root;
    const line = root.lookupType('shop.Order.Line').encode({ sku: 'kettle' }).finish();
    const order = root.lookupType('shop.Order').encode({ orderId: 'o-2', totalCents: 5 }).finish();
    expect(decoder.decode(Buffer.concat([Buffer.from([1]), line]))).toEqual({ sku: 'kettle' });
    expect(decoder.decode(Buffer.concat([Buffer.from([0]), order]))).toEqual({
      orderId: 'o-2',
      totalCents: '5',
    });
    expect(() => decoder.decode(Buffer.concat([Buffer.from([7]), order]))).toThrow(
      'no message at Glue message index 7',
    );
  });
});
