import middy from '@middy/core';
import type { z } from 'zod';
import { runtime, type Runtime } from '../runtime';
import { kafkaRecords, processKafkaBatch, type DecodedKafkaEvent, type KafkaBatchResponse } from './batch';
import { createDeadLetterSink } from './dead-letter';
import { createEnvelope, derivedId, toMessage, type Envelope } from './envelope';
import { parseJsonRecord, type KafkaEvent, type KafkaRecord } from './records';
import { TOPIC_NAMES, topicName } from './topics';

/** What a record handler gets besides the parsed message: the record itself and the container's dependencies. */
export type RecordContext = Runtime & { record: KafkaRecord };

/**
 * A Kafka-triggered Lambda handler with the project's standard stack: decode the event, parse each
 * record as a JSON envelope against `schema`, run `recordHandler` per record (offset order within a
 * partition, partitions in parallel), dead-letter poison records to the `dead-letter` topic, and answer
 * AWS's partial batch response (or throw, with `reportBatchItemFailures: false`).
 *
 * `reportBatchItemFailures: true` needs `functionResponseType: ReportBatchItemFailures` on the event in
 * serverless.yml: without it AWS reads the answer as success and the failed records are lost.
 *
 * @example
 * export const handler = kafkaEnvelopeHandler({
 *   consumer: 'audit-log',
 *   schema: OrderEventSchema,
 *   reportBatchItemFailures: true,
 *   recordHandler: (event, deps) => recordAudit(event, deps),
 * });
 */
export function kafkaEnvelopeHandler<S extends z.ZodType<Envelope>>(options: {
  /** the function's name: written on dead-letter records and in output ids */
  consumer: string;
  schema: S;
  reportBatchItemFailures: boolean;
  recordHandler: (message: z.infer<S>, context: RecordContext) => Promise<void>;
}) {
  const lambdaHandler = async (event: KafkaEvent): Promise<KafkaBatchResponse> => {
    const deps = runtime();
    const deadLetter = createDeadLetterSink({
      publisher: deps.publisher,
      topic: topicName(deps.config, TOPIC_NAMES.deadLetter),
      consumer: options.consumer,
    });
    return processKafkaBatch(
      (event as DecodedKafkaEvent).decodedRecords,
      async function recordHandler(record) {
        const message = parseJsonRecord(record, options.schema);
        await options.recordHandler(message, { ...deps, record });
      },
      { reportBatchItemFailures: options.reportBatchItemFailures, deadLetter, logger: deps.logger },
    );
  };
  return middy<KafkaEvent, KafkaBatchResponse>().use(kafkaRecords()).handler(lambdaHandler);
}

/**
 * Publish the next event of a chain, caused by `cause`: same correlation id, `causationId` = the
 * cause's id, and an id derived from `step` and the cause's id (or `idFrom`), so processing the same
 * input again publishes the same id — consumers de-duplicate on it. Resolves once the broker
 * acknowledged; throws BrokerUnavailableError (retriable) when it cannot take the event.
 *
 * @example
 * await publishChained(deps, { topic: 'order-audit', key: orderId, cause: event, step: 'audit-log', type: 'audit.recorded', payload });
 */
export async function publishChained<T>(
  deps: Pick<Runtime, 'publisher'>,
  input: {
    topic: string;
    key: string;
    cause: Envelope;
    /** names the processing step, so two steps caused by one input get different ids */
    step: string;
    type: string;
    payload: T;
    /** what the id is derived from instead of the cause's id, e.g. a business id */
    idFrom?: string;
  },
): Promise<Envelope<T>> {
  const envelope = createEnvelope({
    id: derivedId(input.step, input.idFrom ?? input.cause.id),
    type: input.type,
    payload: input.payload,
    correlationId: input.cause.correlationId,
    causationId: input.cause.id,
  });
  await deps.publisher.publish(input.topic, [toMessage(envelope, input.key)]);
  return envelope;
}
