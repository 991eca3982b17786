/**
 * The broker helpers the tests share (BROKERS, uniqueName, createTopic, consumeRecords, waitFor, …). They
 * live with the event source package's own tests, which must run without this repository around them.
 */
export * from '../../packages/serverless-offline-kafka/test/helpers/kafka';
