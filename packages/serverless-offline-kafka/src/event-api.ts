/** `serverless-offline-kafka/event`: AWS's Kafka event, built as the plugin builds it for a handler. */
export { buildEvent, recordSize, toLambdaRecord } from './event';
export type { EventOrigin, LambdaKafkaEvent, LambdaKafkaRecord, SourceRecord } from './event';
