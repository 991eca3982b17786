/**
 * What a record's bytes say under a Confluent-compatible schema registry, and decoders for the three
 * formats Lambda's event source handles (Avro, Protobuf, JSON Schema), built from a registry's schema.
 *
 * Confluent's wire format (https://docs.confluent.io/platform/current/schema-registry/fundamentals/serdes-develop/index.html#wire-format):
 * a magic byte 0, the schema id as 4 bytes big-endian, then the payload; a Protobuf payload starts with
 * the message indexes (a zig-zag varint count, then zig-zag varint indexes; a lone 0 stands for [0])
 * that say which message of the schema's file the bytes are.
 */
import Ajv from 'ajv';
import avro from 'avsc';
import protobuf from 'protobufjs';

export type DataFormat = 'AVRO' | 'PROTOBUF' | 'JSON';

/** The schema id and payload of Confluent-framed bytes, or undefined when they are not framed. */
export function readConfluentFrame(bytes: Buffer): { schemaId: number; payload: Buffer } | undefined {
  if (bytes.length < 5 || bytes[0] !== 0) return undefined;
  return { schemaId: bytes.readUInt32BE(1), payload: bytes.subarray(5) };
}

/** One zig-zag varint at `offset` (as Confluent's Protobuf serializer writes the message indexes). */
function readZigZagVarint(bytes: Buffer, offset: number): { value: number; next: number } {
  let result = 0;
  let shift = 0;
  let at = offset;
  for (;;) {
    if (at >= bytes.length) throw new Error('the Protobuf message indexes end before the message');
    const byte = bytes[at]!;
    at += 1;
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) break;
    shift += 7;
    if (shift > 35) throw new Error('a Protobuf message index is too long');
  }
  return { value: result % 2 === 0 ? result / 2 : -(result + 1) / 2, next: at };
}

/** The message indexes at the start of a Confluent Protobuf payload, and the message bytes after them. */
export function readMessageIndexes(payload: Buffer): { indexes: number[]; message: Buffer } {
  const count = readZigZagVarint(payload, 0);
  if (count.value === 0) return { indexes: [0], message: payload.subarray(count.next) };
  if (count.value < 0 || count.value > 100) throw new Error(`bad Protobuf message index count ${count.value}`);
  const indexes: number[] = [];
  let at = count.next;
  for (let i = 0; i < count.value; i += 1) {
    const index = readZigZagVarint(payload, at);
    indexes.push(index.value);
    at = index.next;
  }
  return { indexes, message: payload.subarray(at) };
}

/** A schema as a registry answers `GET /schemas/ids/{id}`. */
export interface RegistrySchema {
  schema: string;
  /** absent for Avro, the registry's default */
  schemaType?: 'AVRO' | 'PROTOBUF' | 'JSON';
}

/** Turns a payload (the bytes after the wire frame) into the value it stands for; throws when it cannot. */
export interface SchemaDecoder {
  dataFormat: DataFormat;
  decode(payload: Buffer): unknown;
}

/** The message type of a Protobuf file that `indexes` designate: top-level message, then nested ones. */
function protobufType(root: protobuf.Root, indexes: number[]): protobuf.Type {
  const messagesOf = (ns: protobuf.NamespaceBase): protobuf.Type[] =>
    ns.nestedArray.flatMap((nested) =>
      nested instanceof protobuf.Type
        ? [nested]
        : nested instanceof protobuf.Namespace && !(nested instanceof protobuf.Service)
          ? messagesOf(nested)
          : [],
    );
  let candidates = messagesOf(root);
  let type: protobuf.Type | undefined;
  for (const index of indexes) {
    type = candidates[index];
    if (!type) throw new Error(`the schema has no message at index path [${indexes.join(', ')}]`);
    candidates = type.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type);
  }
  if (!type) throw new Error('no Protobuf message indexes');
  return type;
}

/**
 * A decoder for a registry schema. Avro: avsc reads the binary encoding; Protobuf: protobufjs parses the
 * schema's .proto text and decodes the message the indexes name, to JSON with string longs and enum
 * names; JSON Schema: the payload is JSON text, validated with Ajv.
 */
export function createSchemaDecoder(schema: RegistrySchema): SchemaDecoder {
  const type = schema.schemaType ?? 'AVRO';
  if (type === 'AVRO') {
    const avroType = avro.Type.forSchema(JSON.parse(schema.schema) as avro.Schema);
    return {
      dataFormat: 'AVRO',
      decode: (payload) => {
        const { value, offset } = avroType.decode(payload, 0);
        if (offset !== payload.length) throw new Error('the Avro payload does not match its schema');
        return value;
      },
    };
  }
  if (type === 'PROTOBUF') {
    const root = protobuf.parse(schema.schema, { keepCase: false }).root;
    return {
      dataFormat: 'PROTOBUF',
      decode: (payload) => {
        const { indexes, message } = readMessageIndexes(payload);
        const messageType = protobufType(root, indexes);
        return messageType.toObject(messageType.decode(message), { longs: String, enums: String, bytes: String });
      },
    };
  }
  const validate = new Ajv({ strict: false }).compile(JSON.parse(schema.schema) as object);
  return {
    dataFormat: 'JSON',
    decode: (payload) => {
      const value: unknown = JSON.parse(payload.toString('utf8'));
      if (!validate(value)) throw new Error(`the JSON does not match its schema: ${JSON.stringify(validate.errors)}`);
      return value;
    },
  };
}
