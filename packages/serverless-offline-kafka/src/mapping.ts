/**
 * The plugin's AWS contract: the event settings it adds to serverless.yml's `msk` / `kafka` events, how
 * they are written into the generated `AWS::Lambda::EventSourceMapping`, and how such a mapping is read
 * back (its Kafka failure destination, the settings AWS accepts only in provisioned mode). Deploy tooling
 * that post-processes the template imports these instead of re-deriving them.
 *
 * Properties: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-eventsourcemapping.html
 */
import { OfflineKafkaConfigError } from './errors';
import { readSchemaRegistrySettings } from './schema-registry-settings';
import type { EventKind } from './settings';

type RawEvent = Record<string, unknown>;

/** The settings the plugin adds to the `msk` and `kafka` event schemas (and writes into CloudFormation). */
export const EVENT_SCHEMA_EXTENSION = {
  maximumRetryAttempts: { type: 'integer', minimum: -1, maximum: 10_000 },
  maximumRecordAgeInSeconds: {
    anyOf: [
      { type: 'integer', const: -1 },
      { type: 'integer', minimum: 60, maximum: 604_800 },
    ],
  },
  bisectBatchOnFunctionError: { type: 'boolean' },
  functionResponseType: { type: 'string', enum: ['ReportBatchItemFailures'] },
  // the mapping's schema registry (checked in full by ./schema-registry-settings); osls has provisionedPollerConfig
  schemaRegistryConfig: { type: 'object' },
  // the mapping's CloudWatch metrics and system log level (AWS 2025), written as they are
  metricsConfig: {
    type: 'object',
    properties: {
      metrics: { type: 'array', minItems: 1, items: { enum: ['EventCount', 'ErrorCount', 'KafkaMetrics'] } },
    },
    required: ['metrics'],
    additionalProperties: false,
  },
  loggingConfig: {
    type: 'object',
    properties: { systemLogLevel: { enum: ['DEBUG', 'INFO', 'WARN'] } },
    required: ['systemLogLevel'],
    additionalProperties: false,
  },
} as const;

/** ProvisionedPollerConfig's PollerGroupName (AWS: up to 128 of these characters). */
const POLLER_GROUP_NAME = /^[a-zA-Z0-9._-]{1,128}$/;

/** `msk` has no `onFailureDestination` in the framework; `kafka` already has one. */
export const MSK_ONLY_SCHEMA_EXTENSION = {
  onFailureDestination: { type: 'string' },
} as const;

const KAFKA_DESTINATION = /^kafka:\/\/(.+)$/;

/**
 * The topic of a `kafka://topic` on-failure destination, or undefined for any other destination
 * (https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure-destination.html).
 *
 * @example
 * kafkaDestinationTopic('kafka://dead-letter'); // 'dead-letter'
 * kafkaDestinationTopic('arn:aws:sqs:eu-west-1:123456789012:dlq'); // undefined
 */
export function kafkaDestinationTopic(destination: unknown): string | undefined {
  return typeof destination === 'string' ? destination.match(KAFKA_DESTINATION)?.[1] : undefined;
}

/**
 * Write the settings serverless.yml cannot express into one generated mapping's Properties.
 *
 * @example
 * applyMappingSettings(props, 'msk', { maximumBatchingWindow: 0, functionResponseType: 'ReportBatchItemFailures' });
 * // props.MaximumBatchingWindowInSeconds === 0, props.FunctionResponseTypes = ['ReportBatchItemFailures']
 */
export function applyMappingSettings(
  props: Record<string, unknown>,
  kind: EventKind,
  raw: RawEvent,
  where = `${kind} event`,
): void {
  // the framework compiles maximumBatchingWindow only when truthy, so 0 (invoke at once) is lost
  if (raw.maximumBatchingWindow === 0) props.MaximumBatchingWindowInSeconds = 0;
  if (typeof raw.maximumRetryAttempts === 'number') props.MaximumRetryAttempts = raw.maximumRetryAttempts;
  if (typeof raw.maximumRecordAgeInSeconds === 'number')
    props.MaximumRecordAgeInSeconds = raw.maximumRecordAgeInSeconds;
  if (typeof raw.bisectBatchOnFunctionError === 'boolean') {
    props.BisectBatchOnFunctionError = raw.bisectBatchOnFunctionError;
  }
  if (raw.functionResponseType === 'ReportBatchItemFailures') props.FunctionResponseTypes = ['ReportBatchItemFailures'];
  // the same reading as the local event source's, so what runs locally is what is deployed
  const registry = readSchemaRegistrySettings(where, raw);
  if (registry) {
    // where CloudFormation takes it: inside the Kafka event source config, beside ConsumerGroupId
    // (AWS::Lambda::EventSourceMapping AmazonManagedKafkaEventSourceConfig / SelfManagedKafkaEventSourceConfig)
    const key = kind === 'msk' ? 'AmazonManagedKafkaEventSourceConfig' : 'SelfManagedKafkaEventSourceConfig';
    props[key] = {
      ...(props[key] as Record<string, unknown> | undefined),
      SchemaRegistryConfig: {
        SchemaRegistryURI: registry.uri,
        EventRecordFormat: registry.eventRecordFormat,
        SchemaValidationConfigs: registry.attributes.map((attribute) => ({ Attribute: attribute })),
        ...(registry.accessConfigs.length > 0
          ? { AccessConfigs: registry.accessConfigs.map((a) => ({ Type: a.type, URI: a.uri })) }
          : {}),
      },
    };
  }
  const pollers = raw.provisionedPollerConfig as Record<string, unknown> | undefined;
  if (pollers?.pollerGroupName !== undefined) {
    const name = pollers.pollerGroupName;
    if (typeof name !== 'string' || !POLLER_GROUP_NAME.test(name)) {
      throw new OfflineKafkaConfigError(
        `${where}: provisionedPollerConfig.pollerGroupName must be 1-128 letters, digits, . _ -, got ${JSON.stringify(name)}`,
      );
    }
    props.ProvisionedPollerConfig = { ...(props.ProvisionedPollerConfig as object | undefined), PollerGroupName: name };
  }
  const metrics = raw.metricsConfig as { metrics?: string[] } | undefined;
  if (metrics?.metrics) props.MetricsConfig = { Metrics: metrics.metrics };
  const logging = raw.loggingConfig as { systemLogLevel?: string } | undefined;
  if (logging?.systemLogLevel) props.LoggingConfig = { SystemLogLevel: logging.systemLogLevel };
  if (kind === 'msk' && typeof raw.onFailureDestination === 'string') {
    props.DestinationConfig = { OnFailure: { Destination: raw.onFailureDestination } };
  }
}

/** The on-failure destination of a mapping's Properties, as written. */
export function mappingDestination(props: Record<string, unknown> | undefined): unknown {
  return (props?.DestinationConfig as { OnFailure?: { Destination?: unknown } } | undefined)?.OnFailure?.Destination;
}

/**
 * The schema registry a mapping's Properties name, as written above: its URI (a Confluent URL or a Glue
 * registry ARN) and the secrets of its access configs; undefined when it has none.
 */
export function mappingSchemaRegistry(
  props: Record<string, unknown> | undefined,
): { uri: string; secretArns: string[] } | undefined {
  for (const key of ['AmazonManagedKafkaEventSourceConfig', 'SelfManagedKafkaEventSourceConfig']) {
    const config = (props?.[key] as { SchemaRegistryConfig?: Record<string, unknown> } | undefined)
      ?.SchemaRegistryConfig;
    if (!config) continue;
    const access = (config.AccessConfigs as { URI: string }[] | undefined) ?? [];
    return { uri: String(config.SchemaRegistryURI), secretArns: access.map((a) => a.URI) };
  }
  return undefined;
}

/** The Kafka topic a mapping's failed records go to (`kafka://topic` destination), if any. */
export function mappingKafkaDestinationTopic(props: Record<string, unknown> | undefined): string | undefined {
  return kafkaDestinationTopic(mappingDestination(props));
}

/**
 * Properties AWS documents for Kafka mappings in provisioned mode only
 * (https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html).
 */
export const PROVISIONED_MODE_PROPERTIES = [
  'MaximumRetryAttempts',
  'MaximumRecordAgeInSeconds',
  'BisectBatchOnFunctionError',
  'FunctionResponseTypes',
] as const;

/**
 * What a mapping uses that needs provisioned mode (`ProvisionedPollerConfig`), named for an error
 * message: the properties above and a `kafka://` destination. Empty when it needs nothing, or has it.
 */
export function settingsNeedingProvisionedMode(props: Record<string, unknown> | undefined): string[] {
  if (!props || props.ProvisionedPollerConfig) return [];
  const used: string[] = PROVISIONED_MODE_PROPERTIES.filter((p) => props[p] !== undefined);
  if (mappingKafkaDestinationTopic(props) !== undefined) used.push('a kafka:// destination');
  return used;
}

type TemplateResource = { Type: string; Properties: Record<string, unknown> };

/**
 * The AWS::Lambda::EventSourceMapping the framework generated for one `msk` / `kafka` event of the
 * function `functionLogicalId`: same function, same topic, same cluster (msk) or a self-managed source.
 */
export function findEventSourceMapping(
  resources: Record<string, TemplateResource>,
  functionLogicalId: string,
  kind: EventKind,
  raw: Record<string, unknown>,
): TemplateResource | undefined {
  return Object.values(resources).find(
    (r) =>
      r.Type === 'AWS::Lambda::EventSourceMapping' &&
      JSON.stringify(r.Properties.FunctionName).includes(`"${functionLogicalId}"`) &&
      Array.isArray(r.Properties.Topics) &&
      r.Properties.Topics[0] === raw.topic &&
      (kind === 'msk'
        ? JSON.stringify(r.Properties.EventSourceArn) === JSON.stringify(raw.arn)
        : r.Properties.SelfManagedEventSource !== undefined),
  );
}
