import type { GlueClient } from '@aws-sdk/client-glue';
import { GLUE_REGISTRY_ARN } from '../aws-patterns';
import { rootMessage } from '../deadline';
import { AppError } from '../errors';

/**
 * Where a writer's schema lives, and the bytes that name it before every value: Confluent's wire format
 * (docs.confluent.io, Schema Registry "Wire format": magic byte 0, the schema id as 4 bytes big-endian) or
 * AWS Glue's (github.com/awslabs/aws-glue-schema-registry: header version 3, compression 0 = none, the
 * schema version UUID as 16 bytes). The schema is registered on first use, as both registries' own
 * serializers do; a failed registration is tried again by the next call.
 */
export interface SchemaHome {
  /** the registry's name for this schema: the Confluent id as text, or the Glue version UUID */
  schemaId(): Promise<string>;
  /** the frame header that goes before each value */
  header(): Promise<Buffer>;
}

/** The schema registry could not be asked or failed (5xx, throttled): retriable, the record is delivered again. */
export class SchemaRegistryUnavailableError extends AppError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'SCHEMA_REGISTRY_UNAVAILABLE', statusCode: 503, retriable: true, cause });
    this.name = 'SchemaRegistryUnavailableError';
  }
}

/** The registry refused the schema (incompatible with the subject, bad credentials, no permission): not retriable. */
export class SchemaRegistryRefusedError extends AppError {
  constructor(message: string) {
    super(message, { code: 'SCHEMA_REGISTRY_REFUSED', statusCode: 500 });
    this.name = 'SchemaRegistryRefusedError';
  }
}

/** `register` once; a failure is forgotten so the next call asks again. */
function registeredOnce(register: () => Promise<string>): () => Promise<string> {
  let registered: Promise<string> | undefined;
  return () => {
    if (!registered) {
      const attempt = register();
      registered = attempt;
      attempt.catch(() => {
        if (registered === attempt) registered = undefined;
      });
    }
    return registered;
  };
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
 * A schema in a Confluent-compatible registry, registered under `subject` (TopicNameStrategy:
 * `<topic>-value`) with `POST /subjects/{subject}/versions`, which answers the id of an identical
 * version the subject already has.
 */
export function confluentSchemaHome(options: {
  registryUrl: string;
  subject: string;
  /** the schema's text (Avro: its JSON) */
  schema: string;
  /** the deadline of the registration request */
  timeoutMs: number;
  fetch?: typeof fetch;
}): SchemaHome {
  const { subject, timeoutMs } = options;
  const doFetch = options.fetch ?? fetch;
  const { base, authorization } = splitCredentials(options.registryUrl);
  const where = `the schema registry at ${base}`;
  const schemaId = registeredOnce(async () => {
    let response: Response;
    try {
      response = await doFetch(`${base}/subjects/${encodeURIComponent(subject)}/versions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/vnd.schemaregistry.v1+json',
          ...(authorization ? { authorization } : {}),
        },
        body: JSON.stringify({ schema: options.schema }),
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
    return String(id);
  });
  return {
    schemaId,
    async header() {
      const header = Buffer.alloc(5);
      header.writeInt32BE(Number(await schemaId()), 1);
      return header;
    },
  };
}

/**
 * What the Glue API answers that no retry changes: the writer's schema, permissions or registry must
 * change (EntityNotFoundException here comes from CreateSchema: the registry does not exist).
 */
const GLUE_REFUSALS = new Set([
  'AccessDeniedException',
  'InvalidInputException',
  'ResourceNumberLimitExceededException',
  'EntityNotFoundException',
]);

/**
 * A schema in an AWS Glue Schema Registry named `schemaName` (the topic, as Glue's serializers name it),
 * Avro, backward compatible: `RegisterSchemaVersion` (which answers the version id of an identical
 * definition), and `CreateSchema` when the schema does not exist yet. The Glue client (AWS SDK) is built
 * on first use in the registry's region: with the function's role on AWS, `AWS_ENDPOINT_URL_GLUE` locally.
 */
export function glueSchemaHome(options: {
  registryArn: string;
  schemaName: string;
  schema: string;
  /** a Glue client for the registry's region (tests); default: the AWS SDK's, loaded on first use */
  glue?: Pick<GlueClient, 'send'>;
}): SchemaHome {
  const match = GLUE_REGISTRY_ARN.exec(options.registryArn);
  if (!match) throw new SchemaRegistryRefusedError(`not a Glue registry ARN: ${options.registryArn}`);
  const [, , region, , registryName] = match;
  const where = `the Glue schema registry ${options.registryArn}`;
  const schemaId = registeredOnce(async () => {
    const sdk = await import('@aws-sdk/client-glue');
    const glue = options.glue ?? new sdk.GlueClient({ region });
    const id = { RegistryName: registryName, SchemaName: options.schemaName };
    const register = async () =>
      (await glue.send(new sdk.RegisterSchemaVersionCommand({ SchemaId: id, SchemaDefinition: options.schema })))
        .SchemaVersionId!;
    try {
      try {
        return await register();
      } catch (error) {
        if ((error as Error).name !== 'EntityNotFoundException') throw error;
      }
      try {
        const created = await glue.send(
          new sdk.CreateSchemaCommand({
            RegistryId: { RegistryName: registryName },
            SchemaName: options.schemaName,
            DataFormat: 'AVRO',
            Compatibility: 'BACKWARD',
            SchemaDefinition: options.schema,
          }),
        );
        return created.SchemaVersionId!;
      } catch (error) {
        // another container created it meanwhile: its version is ours
        if ((error as Error).name !== 'AlreadyExistsException') throw error;
        return await register();
      }
    } catch (error) {
      const { name, message } = error as Error;
      if (GLUE_REFUSALS.has(name)) {
        throw new SchemaRegistryRefusedError(`${where} refused the schema ${options.schemaName} (${name}: ${message})`);
      }
      throw new SchemaRegistryUnavailableError(`${where} cannot be asked: ${name}: ${message}`, error);
    }
  });
  return {
    schemaId,
    async header() {
      const uuid = Buffer.from((await schemaId()).replace(/-/g, ''), 'hex');
      return Buffer.concat([Buffer.from([3, 0]), uuid]);
    },
  };
}
