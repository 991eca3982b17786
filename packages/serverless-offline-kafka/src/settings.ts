import { readClusterAuth, type ClusterAuth } from './cluster-auth';
import { readLocalSchemaRegistrySettings, type SchemaRegistrySettings } from './schema-registry-settings';
import { OfflineKafkaConfigError } from './errors';

/** The `startingPosition` values AWS accepts for Kafka event source mappings. */
export const STARTING_POSITIONS = ['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'] as const;
export type StartingPosition = (typeof STARTING_POSITIONS)[number];

export const EVENT_KINDS = ['msk', 'kafka'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** AWS's limits (with-msk / kafka-retry-configurations), applied locally as on AWS. */
export const LIMITS = {
  maxPayloadBytes: 6 * 1024 * 1024,
  defaultBatchSize: 100,
  maxBatchSize: 10_000,
  defaultBatchingWindowSeconds: 0.5,
  /** with infinite retries and an on-failure destination, Lambda caps retries at 10 */
  retriesWithDestination: 10,
} as const;

/** Everything one `msk` / `kafka` event of one function needs to run locally. */
export interface EventSourceSettings {
  functionKey: string;
  /** the deployed function name (service-stage-function), for logs and failure records */
  functionName: string;
  kind: EventKind;
  topic: string;
  /** broker addresses the local consumer connects to */
  brokers: string[];
  /** what the event's `bootstrapServers` says: one comma-separated string, as on AWS */
  bootstrapServers: string;
  /** msk only: the cluster ARN as written (or a local placeholder when it is a CloudFormation reference) */
  eventSourceArn?: string;
  groupId: string;
  batchSize: number;
  batchingWindowMs: number;
  startingPosition: StartingPosition;
  /** Unix seconds, for AT_TIMESTAMP */
  startingPositionTimestamp?: number;
  enabled: boolean;
  filterPatterns: unknown[];
  /** -1 = forever */
  maximumRetryAttempts: number;
  /** -1 = forever */
  maximumRecordAgeSeconds: number;
  bisectBatchOnFunctionError: boolean;
  reportBatchItemFailures: boolean;
  /** the on-failure destination as written (`kafka://topic`, or an SQS/SNS/S3 ARN) */
  onFailureDestination?: string;
  /** how the consumer authenticates (undefined: plaintext) */
  auth?: ClusterAuth;
  /** the event's schema registry (undefined: records delivered as they are) */
  schemaRegistry?: SchemaRegistrySettings;
}

/** Local-only options, from `custom.serverless-offline-kafka`. None of them reaches AWS. */
export interface PluginOptions {
  /** overrides every event's brokers (string "h:p,h:p" or a list) */
  brokers?: string[];
  /** first and longest wait between retries of a failing batch */
  retryBackoff: { initialMs: number; maxMs: number };
  /** kafkajs consumer session timeout: how long a crashed process keeps its partitions */
  sessionTimeoutMs: number;
  /**
   * Run Kafka-triggered handlers in serverless offline's process (true) or in its worker threads
   * (false); unset: as serverless-offline's own `useInProcess` says for HTTP functions.
   */
  useInProcess?: boolean;
  /** secret ARN → a JSON file holding that secret, instead of asking Secrets Manager */
  secrets: Record<string, string>;
  /** `msk` events without saslScram512 authenticate with MSK IAM, signed with the developer's AWS credentials */
  mskIam: boolean;
}

export interface ServiceContext {
  service: string;
  stage: string;
  region: string;
  /** KAFKA_BROKERS of the environment running `serverless offline`, or of provider.environment */
  defaultBrokers: string[];
}

type RawEvent = Record<string, unknown>;

const asString = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
/** a number, or a numeric string (what `${env:...}` variables resolve to) */
const asNumber = (v: unknown): number | undefined => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v);
  return undefined;
};

/** Split "h:p, h:p" (or a list) into addresses. */
export function parseBrokers(value: unknown): string[] | undefined {
  const list = Array.isArray(value) ? value.map(String) : typeof value === 'string' ? value.split(',') : undefined;
  const brokers = list?.map((b) => b.trim()).filter(Boolean);
  return brokers && brokers.length > 0 ? brokers : undefined;
}

/**
 * The stable consumer group id used when `consumerGroupId` is not set: the same on every start, so a
 * restart resumes from the group's commits (AWS uses one id per mapping for the same reason).
 *
 * @example
 * deriveGroupId({ service: 'shop', stage: 'local' }, 'worker', 'orders'); // 'shop-local-worker-orders'
 */
export function deriveGroupId(ctx: { service: string; stage: string }, functionKey: string, topic: string): string {
  return `${ctx.service}-${ctx.stage}-${functionKey}-${topic}`.slice(0, 200);
}

/**
 * Read one `msk` or `kafka` event of a function into the settings the local event source runs with.
 * Throws OfflineKafkaConfigError naming the function and the setting when something cannot work locally.
 */
export function readEventSettings(
  ctx: ServiceContext,
  options: PluginOptions,
  fn: { key: string; name?: string },
  kind: EventKind,
  raw: RawEvent,
): EventSourceSettings {
  const where = `function "${fn.key}", ${kind} event`;
  const topic = asString(raw.topic);
  if (!topic) throw new OfflineKafkaConfigError(`${where}: "topic" is required`);
  const eventBrokers = kind === 'kafka' ? parseBrokers(raw.bootstrapServers) : undefined;
  const brokers = options.brokers ?? eventBrokers ?? ctx.defaultBrokers;
  const batchSize = asNumber(raw.batchSize) ?? LIMITS.defaultBatchSize;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > LIMITS.maxBatchSize) {
    throw new OfflineKafkaConfigError(
      `${where}: batchSize must be 1-${LIMITS.maxBatchSize}, got ${String(raw.batchSize)}`,
    );
  }
  const window = asNumber(raw.maximumBatchingWindow) ?? LIMITS.defaultBatchingWindowSeconds;
  const startingPosition = (asString(raw.startingPosition) ?? 'TRIM_HORIZON') as StartingPosition;
  if (!STARTING_POSITIONS.includes(startingPosition)) {
    throw new OfflineKafkaConfigError(`${where}: startingPosition must be one of ${STARTING_POSITIONS.join(', ')}`);
  }
  const startingPositionTimestamp = asNumber(raw.startingPositionTimestamp);
  if (startingPosition === 'AT_TIMESTAMP' && startingPositionTimestamp === undefined) {
    throw new OfflineKafkaConfigError(`${where}: AT_TIMESTAMP needs startingPositionTimestamp (Unix seconds)`);
  }
  const arn = raw.arn;
  return {
    functionKey: fn.key,
    functionName: fn.name ?? `${ctx.service}-${ctx.stage}-${fn.key}`,
    kind,
    topic,
    brokers,
    bootstrapServers: brokers.join(','),
    eventSourceArn:
      kind === 'msk'
        ? (asString(arn) ??
          `arn:aws:kafka:${ctx.region}:000000000000:cluster/offline/00000000-0000-0000-0000-000000000000-1`)
        : undefined,
    groupId: asString(raw.consumerGroupId) ?? deriveGroupId(ctx, fn.key, topic),
    batchSize,
    batchingWindowMs: Math.round(window * 1000),
    startingPosition,
    startingPositionTimestamp,
    enabled: raw.enabled !== false,
    filterPatterns: Array.isArray(raw.filterPatterns) ? raw.filterPatterns : [],
    maximumRetryAttempts: asNumber(raw.maximumRetryAttempts) ?? -1,
    maximumRecordAgeSeconds: asNumber(raw.maximumRecordAgeInSeconds) ?? -1,
    bisectBatchOnFunctionError: raw.bisectBatchOnFunctionError === true,
    reportBatchItemFailures: raw.functionResponseType === 'ReportBatchItemFailures',
    onFailureDestination: asString(raw.onFailureDestination),
    // the `brokers` option points every event at one local (plaintext) broker: the events' own auth is for theirs
    auth: options.brokers ? undefined : readClusterAuth(where, kind, raw, { iam: options.mskIam, region: ctx.region }),
    schemaRegistry: readLocalSchemaRegistrySettings(where, raw),
  };
}

/** `custom.serverless-offline-kafka`, validated, with defaults. */
export function readPluginOptions(raw: unknown): PluginOptions {
  const o = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const backoff = (o.retryBackoff && typeof o.retryBackoff === 'object' ? o.retryBackoff : {}) as Record<
    string,
    unknown
  >;
  const initialMs = asNumber(backoff.initialMs) ?? 1000;
  const maxMs = asNumber(backoff.maxMs) ?? 30_000;
  const sessionTimeoutMs = asNumber(o.sessionTimeoutMs) ?? 10_000;
  if (initialMs < 1 || maxMs < initialMs) {
    throw new OfflineKafkaConfigError('custom.serverless-offline-kafka.retryBackoff: need 1 <= initialMs <= maxMs');
  }
  if (o.useInProcess !== undefined && typeof o.useInProcess !== 'boolean') {
    throw new OfflineKafkaConfigError('custom.serverless-offline-kafka.useInProcess: must be true or false');
  }
  const secrets = o.secrets ?? {};
  if (
    typeof secrets !== 'object' ||
    Array.isArray(secrets) ||
    !Object.values(secrets).every((file) => typeof file === 'string' && file.length > 0)
  ) {
    throw new OfflineKafkaConfigError(
      'custom.serverless-offline-kafka.secrets: must map each secret ARN to the path of a JSON file',
    );
  }
  // a boolean, or what `${env:X, false}` resolves to
  const mskIam = o.mskIam === undefined ? false : { true: true, false: false }[String(o.mskIam)];
  if (mskIam === undefined) {
    throw new OfflineKafkaConfigError('custom.serverless-offline-kafka.mskIam: must be true or false');
  }
  return {
    brokers: parseBrokers(o.brokers),
    secrets: secrets as Record<string, string>,
    mskIam,
    retryBackoff: { initialMs, maxMs },
    sessionTimeoutMs,
    ...(o.useInProcess === undefined ? {} : { useInProcess: o.useInProcess }),
  };
}
