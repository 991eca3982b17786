import type { KafkaMessage } from 'kafkajs';
import type { MSKEvent } from 'aws-lambda';
import { toLambdaRecord } from 'serverless-offline-kafka/event';
import { BROKERS } from './kafka';

/**
 * The MSK event Lambda's event source mapping would send for one kafkajs batch of one partition, built by
 * the local event source's own record conversion (base64 key/value, signed header bytes, repeated headers).
 * For tests that drive a handler from a plain kafkajs consumer.
 */
export function toMskEvent(topic: string, partition: number, messages: KafkaMessage[]): MSKEvent {
  return {
    eventSource: 'aws:kafka',
    eventSourceArn: 'arn:aws:kafka:eu-west-1:123456789012:cluster/local/00000000-0000-0000-0000-000000000000-1',
    bootstrapServers: BROKERS.join(','),
    records: {
      [`${topic}-${partition}`]: messages.map((m) =>
        toLambdaRecord({
          topic,
          partition,
          offset: m.offset,
          timestamp: m.timestamp,
          logAppendTime: false,
          key: m.key,
          value: m.value,
          headers: m.headers ?? {},
        }),
      ),
    },
  } as MSKEvent;
}
