/**
 * What a record's bytes say under a schema registry, and decoders for the three formats Lambda's event
 * source handles (Avro, Protobuf, JSON Schema), built from a registry's schema.
 *
 * Confluent's wire format (https://docs.confluent.io/platform/current/schema-registry/fundamentals/serdes-develop/index.html#wire-format):
 * a magic byte 0, the schema id as 4 bytes big-endian, then the payload; a Protobuf payload starts with
 * the message indexes (a zig-zag varint count, then zig-zag varint indexes; a lone 0 stands for [0])
 * that say which message of the schema's file the bytes are.
 *
 * AWS Glue Schema Registry's (its serializers, github.com/awslabs/aws-glue-schema-registry): a header
 * version byte 3, a compression byte (0 none, 5 zlib), the schema version's UUID as 16 bytes, then the
 * payload (compressed as that byte says); a Protobuf payload starts with ONE unsigned varint, the index
 * of the message among all the file's messages, nested ones included, sorted by full name.
 */
import { inflateSync } from 'node:zlib';
import Ajv from 'ajv';
import avro from 'avsc';
import protobuf from 'protobufjs';

export type DataFormat = 'AVRO' | 'PROTOBUF' | 'JSON';

/** Whose wire format: a Confluent-compatible registry's, or AWS Glue's. */
export type WireFormat = 'confluent' | 'glue';

/** A record attribute's schema id (Confluent: the number as text; Glue: the version UUID) and payload. */
export interface Frame {
  schemaId: string;
  payload: Buffer;
}

/** The schema id and payload of Confluent-framed bytes, or undefined when they are not framed. */
export function readConfluentFrame(bytes: Buffer): Frame | undefined {
  if (bytes.length < 5 || bytes[0] !== 0) return undefined;
  return { schemaId: String(bytes.readUInt32BE(1)), payload: bytes.subarray(5) };
}

const GLUE_HEADER_VERSION = 3;
const GLUE_COMPRESSION = { none: 0, zlib: 5 } as const;
const GLUE_HEADER_BYTES = 18;

/**
 * The schema version UUID and the (inflated) payload of Glue-framed bytes, or undefined when they are not
 * framed; throws when the frame names a compression Glue does not write, or zlib bytes do not inflate.
 */
export function readGlueFrame(bytes: Buffer): Frame | undefined {
  if (bytes.length < GLUE_HEADER_BYTES || bytes[0] !== GLUE_HEADER_VERSION) return undefined;
  const compression = bytes[1];
  const hex = bytes.subarray(2, GLUE_HEADER_BYTES).toString('hex');
  const schemaId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  const body = bytes.subarray(GLUE_HEADER_BYTES);
  if (compression === GLUE_COMPRESSION.none) return { schemaId, payload: body };
  if (compression === GLUE_COMPRESSION.zlib) return { schemaId, payload: inflateSync(body) };
  throw new Error(`the Glue frame names compression byte ${compression} (0 none, 5 zlib)`);
}

/** The frame of `bytes` under `wire`, or undefined when they carry none. */
export function readFrame(wire: WireFormat, bytes: Buffer): Frame | undefined {
  return wire === 'glue' ? readGlueFrame(bytes) : readConfluentFrame(bytes);
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

/** One unsigned varint at the start of a Glue Protobuf payload (the message index), and the message after it. */
function readGlueMessageIndex(payload: Buffer): { index: number; message: Buffer } {
  const reader = protobuf.Reader.create(payload);
  const index = reader.uint32();
  return { index, message: payload.subarray(reader.pos) };
}

/** Glue's numbering of a file's messages: every message, nested ones included, sorted by full name. */
function glueMessageType(root: protobuf.Root, index: number): protobuf.Type {
  const all: protobuf.Type[] = [];
  const collect = (ns: protobuf.NamespaceBase): void => {
    for (const nested of ns.nestedArray) {
      if (nested instanceof protobuf.Type) all.push(nested);
      if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) collect(nested);
    }
  };
  collect(root);
  all.sort((a, b) => (a.fullName < b.fullName ? -1 : a.fullName > b.fullName ? 1 : 0));
  const type = all[index];
  if (!type) throw new Error(`the schema has no message at Glue message index ${index}`);
  return type;
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
 * schema's .proto text and decodes the message the indexes (Confluent) or the index (Glue) name, to JSON
 * with string longs and enum names; JSON Schema: the payload is JSON text, validated with Ajv.
 */
export function createSchemaDecoder(schema: RegistrySchema, wire: WireFormat = 'confluent'): SchemaDecoder {
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
        let messageType: protobuf.Type;
        let message: Buffer;
        if (wire === 'glue') {
          const read = readGlueMessageIndex(payload);
          messageType = glueMessageType(root, read.index);
          message = read.message;
        } else {
          const read = readMessageIndexes(payload);
          messageType = protobufType(root, read.indexes);
          message = read.message;
        }
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
