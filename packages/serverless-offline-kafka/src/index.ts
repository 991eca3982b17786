/**
 * serverless-offline-kafka. The default export is the Serverless Framework plugin (list the package in
 * serverless.yml `plugins`); the named exports are its public helpers:
 * - the AWS contract (./mapping): the event settings it adds and how they land in CloudFormation;
 * - the Lambda event it builds (./event), for tests that drive a handler with AWS's record format.
 */
export { default, CUSTOM_KEY } from './plugin';
export {
  applyMappingSettings,
  EVENT_SCHEMA_EXTENSION,
  kafkaDestinationTopic,
  mappingDestination,
  mappingKafkaDestinationTopic,
  MSK_ONLY_SCHEMA_EXTENSION,
  PROVISIONED_MODE_PROPERTIES,
  settingsNeedingProvisionedMode,
} from './mapping';
export { buildEvent, recordSize, toLambdaRecord } from './event';
export type { LambdaKafkaEvent, LambdaKafkaRecord, SourceRecord } from './event';
export { LIMITS, deriveGroupId, type EventKind, type EventSourceSettings, type PluginOptions } from './settings';
export { OfflineKafkaConfigError, OfflineKafkaError } from './errors';
