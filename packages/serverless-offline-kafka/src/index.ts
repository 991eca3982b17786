/**
 * serverless-offline-kafka. The default export is the Serverless Framework plugin (list the package in
 * serverless.yml `plugins`); the types are those of its options and of the event a handler receives.
 * Two subpaths hold helpers for code around a service:
 * - `serverless-offline-kafka/event` (./event-api): AWS's Kafka event as the plugin builds it, for tests
 *   that drive a handler with AWS's record format;
 * - `serverless-offline-kafka/deploy` (./deploy-api): how the plugin's settings land in a deployed
 *   mapping, for deploy tooling that post-processes the CloudFormation template.
 */
export { default } from './plugin';
export type { LambdaKafkaEvent, LambdaKafkaRecord } from './event';
export type { PluginOptions } from './settings';
