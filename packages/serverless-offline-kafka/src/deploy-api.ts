/**
 * `serverless-offline-kafka/deploy`: how a deployed AWS::Lambda::EventSourceMapping reads, for deploy
 * tooling that post-processes the template the plugin wrote its settings into.
 */
export { mappingKafkaDestinationTopic, mappingSchemaRegistry, settingsNeedingProvisionedMode } from './mapping';
