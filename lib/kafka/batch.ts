import type middy from '@middy/core';
import { isBrokerUnreachable } from 'kafkajs-resilience';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import { decodeKafkaEvent, type KafkaEvent, type KafkaRecord } from './records';

/** AWS's partial batch response for Kafka: `itemIdentifier` is an object, not a string as for SQS. */
export interface KafkaBatchItemFailure {
  itemIdentifier: { partition: string; offset: number };
}
export interface KafkaBatchResponse {
  batchItemFailures: KafkaBatchItemFailure[];
}

/** Does the work for one record. Throw to fail it: see processKafkaBatch for what happens then. */
export type RecordHandler = (record: KafkaRecord) => Promise<void>;

/** Takes a record that can never be processed, with the reason. Throws when it could not keep it. */
export type DeadLetterSink = (record: KafkaRecord, error: AppError) => Promise<void>;

export interface ProcessKafkaBatchOptions {
  /**
   * true: answer `{ batchItemFailures }` (the event source mapping MUST have
   * `FunctionResponseTypes: [ReportBatchItemFailures]`, or AWS takes the answer as success and the failed
   * records are lost); false: throw BatchFailedError so the whole batch is delivered again.
   */
  reportBatchItemFailures: boolean;
  /** where poison records go; without one a poison record fails like a retriable error (never dropped) */
  deadLetter?: DeadLetterSink;
  logger?: Logger;
}

/** Some records of a batch failed and partial batch responses are off: the whole batch is delivered again. */
export class BatchFailedError extends AppError {
  constructor(failures: KafkaBatchItemFailure[], cause: unknown) {
    const list = failures.map((f) => `${f.itemIdentifier.partition}@${f.itemIdentifier.offset}`);
    super(
      `${failures.length} record(s) failed (${list.slice(0, 10).join(', ')}${list.length > 10 ? ', ...' : ''}); the batch will be delivered again`,
      { code: 'BATCH_FAILED', retriable: true, details: { failures: failures.map((f) => f.itemIdentifier) }, cause },
    );
    this.name = 'BatchFailedError';
  }
}

/**
 * A poison record is one that will never succeed however often it is delivered: an AppError that is not
 * retriable (not JSON, wrong schema, a business rule that cannot pass). Anything else — a retriable
 * AppError such as BrokerUnavailableError, or an unexpected error — is worth delivering again.
 */
export function isPoison(error: unknown): error is AppError {
  return error instanceof AppError && !error.retriable;
}

/** The records grouped by "<topic>-<partition>", each group in offset order. */
export function groupByPartition(records: KafkaRecord[]): Map<string, KafkaRecord[]> {
  const groups = new Map<string, KafkaRecord[]>();
  for (const record of records) {
    const group = groups.get(record.partitionId);
    if (group) group.push(record);
    else groups.set(record.partitionId, [record]);
  }
  for (const group of groups.values()) group.sort((a, b) => a.offset - b.offset);
  return groups;
}

/**
 * Process a batch: records of one partition one after the other in offset order, partitions in parallel.
 *
 * - success: the record is done;
 * - poison (see isPoison) with a dead-letter sink: the record goes there with the error and counts as
 *   done, so the partition goes on and the offset is committed;
 * - any other error (or the dead-letter sink failing): the record fails, and so do the later records of
 *   its partition, which are NOT attempted — they will be delivered again after it, so doing them now
 *   would only break per-key order. Other partitions are not affected.
 *
 * Failures are answered as AWS's partial batch response, or thrown as BatchFailedError (see options).
 *
 * @example
 * const response = await processKafkaBatch(decodeKafkaEvent(event), handleOrder, { reportBatchItemFailures: true });
 */
export async function processKafkaBatch(
  records: KafkaRecord[],
  recordHandler: RecordHandler,
  options: ProcessKafkaBatchOptions,
): Promise<KafkaBatchResponse> {
  const { logger } = options;
  let firstError: unknown;
  const processPartition = async (partitionRecords: KafkaRecord[]): Promise<KafkaBatchItemFailure[]> => {
    for (const [index, record] of partitionRecords.entries()) {
      const where = { partition: record.partitionId, offset: record.offset };
      try {
        await recordHandler(record);
        continue;
      } catch (error) {
        if (isPoison(error) && options.deadLetter) {
          try {
            await options.deadLetter(record, error);
            logger?.warn({ ...where, err: error }, 'poison record sent to the dead-letter topic');
            continue;
          } catch (deadLetterError) {
            logger?.error({ ...where, err: deadLetterError }, 'could not dead-letter a poison record; it fails');
            firstError ??= deadLetterError;
          }
        } else if (error instanceof AppError && isBrokerUnreachable(error)) {
          // Kafka unreachable: an expected state, told once per outage by the runtime; one plain line here
          logger?.info(
            { ...where, code: error.code },
            `record failed (${error.message}); it and the rest of its partition will be delivered again`,
          );
          firstError ??= error;
        } else {
          logger?.error(
            { ...where, err: error },
            'record failed; it and the rest of its partition will be delivered again',
          );
          firstError ??= error;
        }
        return partitionRecords.slice(index).map((r) => ({
          itemIdentifier: { partition: r.partitionId, offset: r.offset },
        }));
      }
    }
    return [];
  };
  const perPartition = await Promise.all([...groupByPartition(records).values()].map(processPartition));
  const batchItemFailures = perPartition.flat();
  if (batchItemFailures.length > 0 && !options.reportBatchItemFailures) {
    throw new BatchFailedError(batchItemFailures, firstError);
  }
  return { batchItemFailures };
}

/** A Kafka event once kafkaRecords() has run: the decoded records are on `decodedRecords`. */
export type DecodedKafkaEvent = KafkaEvent & { decodedRecords: KafkaRecord[] };

/**
 * Middy middleware: decodes the MSK / self-managed Kafka event into `event.decodedRecords` (see
 * decodeKafkaEvent), so the handler works with bytes and strings, not base64 and signed byte arrays.
 */
export function kafkaRecords<R = KafkaBatchResponse>(): middy.MiddlewareObj<KafkaEvent, R> {
  const kafkaRecordsBefore: middy.MiddlewareFn<KafkaEvent, R> = (request) => {
    (request.event as DecodedKafkaEvent).decodedRecords = decodeKafkaEvent(request.event);
  };
  return { before: kafkaRecordsBefore };
}
