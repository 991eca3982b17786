/**
 * An event's `schemaRegistryConfig`, read and checked as AWS checks it
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-consume-kafka-events.html); ./schema-registry
 * applies it to the records.
 */
import { OfflineKafkaConfigError } from './errors';

export type SchemaAttribute = 'KEY' | 'VALUE';

/** `arn:aws:glue:<region>:<account>:registry/<name>`: an AWS Glue Schema Registry. */
const GLUE_REGISTRY_ARN = /^arn:aws[a-z-]*:glue:([a-z0-9-]+):(\d{12}):registry\/([A-Za-z0-9_$#-]+)$/;

export interface SchemaRegistrySettings {
  /** a Confluent-compatible registry's URL, or a Glue registry's ARN */
  uri: string;
  /** which kind `uri` names; Glue is asked through the Glue API in `glueRegion` */
  kind: 'confluent' | 'glue';
  glueRegion?: string;
  /** JSON: the deserialized record as JSON; SOURCE: the original bytes without the wire frame */
  eventRecordFormat: 'JSON' | 'SOURCE';
  attributes: SchemaAttribute[];
  /** how Lambda authenticates to a Confluent registry: each a type and a Secrets Manager secret ARN */
  accessConfigs: { type: RegistryAccessType; uri: string }[];
  /** a Secrets Manager secret with `{"username","password"}` for the registry's HTTP basic auth */
  basicAuthSecretArn?: string;
}

/** AWS's registry access config types (KafkaSchemaRegistryAccessConfig). */
export const REGISTRY_ACCESS_TYPES = [
  'BASIC_AUTH',
  'CLIENT_CERTIFICATE_TLS_AUTH',
  'SERVER_ROOT_CA_CERTIFICATE',
  'OAUTHBEARER_AUTH',
] as const;
export type RegistryAccessType = (typeof REGISTRY_ACCESS_TYPES)[number];

const asObject = (v: unknown): Record<string, unknown> | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/** The event's `schemaRegistryConfig`, checked as AWS checks it, or undefined when it has none. */
export function readSchemaRegistrySettings(
  where: string,
  raw: Record<string, unknown>,
): SchemaRegistrySettings | undefined {
  if (raw.schemaRegistryConfig === undefined) return undefined;
  const config = asObject(raw.schemaRegistryConfig);
  const fail = (problem: string) => new OfflineKafkaConfigError(`${where}: schemaRegistryConfig ${problem}`);
  if (!config) throw fail('must be an object');
  if (!asObject(raw.provisionedPollerConfig)) {
    throw fail(
      'needs provisionedPollerConfig on the same event: Lambda applies a schema registry in provisioned mode only',
    );
  }
  const uri = config.schemaRegistryURI;
  if (typeof uri !== 'string' || uri.length === 0) throw fail('needs schemaRegistryURI');
  const glue = GLUE_REGISTRY_ARN.exec(uri);
  if (uri.startsWith('arn:') && !glue) {
    throw fail(`schemaRegistryURI ${uri} is not a Glue registry ARN (arn:aws:glue:<region>:<account>:registry/<name>)`);
  }
  if (!glue && !/^https?:\/\//.test(uri))
    throw fail(`schemaRegistryURI must be an http(s) URL or a Glue registry ARN, got ${uri}`);
  const format = config.eventRecordFormat;
  if (format !== 'JSON' && format !== 'SOURCE') throw fail('eventRecordFormat must be JSON or SOURCE');
  const validations = config.schemaValidationConfigs;
  const attributes = Array.isArray(validations) ? validations.map((v) => asObject(v)?.attribute) : [];
  if (attributes.length === 0 || !attributes.every((a) => a === 'KEY' || a === 'VALUE')) {
    throw fail('schemaValidationConfigs must list { attribute: KEY } and/or { attribute: VALUE }');
  }
  const accessConfigs = (Array.isArray(config.accessConfigs) ? config.accessConfigs : []).map((access) => {
    const { type, uri: secret } = asObject(access) ?? {};
    if (!REGISTRY_ACCESS_TYPES.includes(type as RegistryAccessType) || typeof secret !== 'string') {
      throw fail(
        `accessConfigs: each must be { type: ${REGISTRY_ACCESS_TYPES.join(' | ')}, uri: <secret ARN> }, got ${JSON.stringify(access)}`,
      );
    }
    return { type: type as RegistryAccessType, uri: secret };
  });
  if (accessConfigs.length > 2) throw fail('accessConfigs: AWS takes at most 2');
  if (glue && accessConfigs.length > 0) {
    throw fail('accessConfigs are for Confluent registries; a Glue registry is reached with the AWS credentials');
  }
  return {
    uri: glue ? uri : uri.replace(/\/+$/, ''),
    kind: glue ? 'glue' : 'confluent',
    ...(glue ? { glueRegion: glue[1] } : {}),
    eventRecordFormat: format,
    attributes: [...new Set(attributes)] as SchemaAttribute[],
    accessConfigs,
    basicAuthSecretArn: accessConfigs.find((a) => a.type === 'BASIC_AUTH')?.uri,
  };
}

/**
 * The settings as the local event source applies them: what it cannot apply yet (the registry's TLS
 * client certificate, root CA, OAuth) is refused at start with that reason instead of being ignored.
 */
export function readLocalSchemaRegistrySettings(
  where: string,
  raw: Record<string, unknown>,
): SchemaRegistrySettings | undefined {
  const settings = readSchemaRegistrySettings(where, raw);
  const unapplied = settings?.accessConfigs.filter((a) => a.type !== 'BASIC_AUTH') ?? [];
  if (unapplied.length > 0) {
    throw new OfflineKafkaConfigError(
      `${where}: schemaRegistryConfig accessConfigs ${unapplied.map((a) => a.type).join(', ')} are not applied locally yet; BASIC_AUTH is`,
    );
  }
  return settings;
}
