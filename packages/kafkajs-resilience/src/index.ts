/**
 * kafkajs-resilience: what every long-lived kafkajs 2.2.4 client needs, in a deployed Lambda function as
 * much as under `serverless offline`. Importing the package applies the idle-timer fix (./idle-timer-fix).
 */
import './idle-timer-fix';

export { applyKafkajsIdleTimerFix } from './idle-timer-fix';
export { createTopics, waitForTopicLeaders } from './topics';
export { OutageTracker, reportKafkaFailure, type OutageOptions, type OutageReport, type OutageSink } from './outage';
export {
  brokerRefusal,
  type BrokerRefusal,
  isBrokerUnreachable,
  kafkajsLogKind,
  type KafkajsLogEntry,
  type KafkajsLogKind,
} from './unreachable';
