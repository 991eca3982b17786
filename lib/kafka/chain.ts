import { createEnvelope, derivedId, toMessage, type Envelope, type EnvelopeEncoding } from './envelope';
import type { Publisher } from './producer';

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
  deps: { publisher: Publisher },
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
    /** how the envelope is written; JSON unless given */
    encoding?: EnvelopeEncoding;
  },
): Promise<Envelope<T>> {
  const envelope = createEnvelope({
    id: derivedId(input.step, input.idFrom ?? input.cause.id),
    type: input.type,
    payload: input.payload,
    correlationId: input.cause.correlationId,
    causationId: input.cause.id,
  });
  const { encoding } = input;
  const encoded = encoding && { value: await encoding.encode(envelope), contentType: encoding.contentType };
  await deps.publisher.publish(input.topic, [toMessage(envelope, input.key, encoded)]);
  return envelope;
}
