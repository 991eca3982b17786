/**
 * Telling an unreachable broker from a fault of the request, by what an error is, never by its wording.
 *
 * An error says the broker cannot be reached when it, or an error it wraps (`cause`, kafkajs's
 * `originalError`, the members of a KafkaJSAggregateError), is one of:
 * - an error marked `unreachable: true` by its author: a service's own errors for a deadline that ran
 *   out waiting on the broker, which carry no kafkajs error to look at;
 * - a Node.js socket or DNS error (`code`: ECONNREFUSED, ECONNRESET, ETIMEDOUT, ...);
 * - a kafkajs error of a class that means the connection or the broker itself failed
 *   (KafkaJSConnectionError, KafkaJSRequestTimeoutError, KafkaJSBrokerNotFound, ...);
 * - a kafkajs protocol error whose code says the cluster could not serve the request at that moment
 *   (LEADER_NOT_AVAILABLE, NOT_COORDINATOR_FOR_GROUP, REQUEST_TIMED_OUT, ...: Kafka's protocol error
 *   codes, https://kafka.apache.org/protocol#protocol_error_codes), as opposed to a refusal of the
 *   request (UNKNOWN_TOPIC_OR_PARTITION, MESSAGE_TOO_LARGE, TOPIC_AUTHORIZATION_FAILED, ...).
 * kafkajs's wrappers (KafkaJSNumberOfRetriesExceeded, KafkaJSNonRetriableError) say what they wrap.
 */

/** Node.js's socket and DNS error codes that mean the peer could not be reached or went away. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/** kafkajs 2.2.4's error classes (their `name`) that mean a connection or a broker failed. */
const KAFKAJS_UNREACHABLE = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSGroupCoordinatorNotFound',
  // a request waited for a lock that an earlier request, stuck on the broker, held
  'KafkaJSLockTimeout',
]);

/** Kafka protocol error codes (kafkajs's `type`) that mean the cluster could not serve the request just then. */
const PROTOCOL_UNAVAILABLE = new Set([
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'REQUEST_TIMED_OUT',
  'BROKER_NOT_AVAILABLE',
  'NETWORK_EXCEPTION',
  'GROUP_LOAD_IN_PROGRESS',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR_FOR_GROUP',
  'KAFKA_STORAGE_ERROR',
]);

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  type?: unknown;
  unreachable?: unknown;
  cause?: unknown;
  originalError?: unknown;
  errors?: unknown;
}

/** Does `error` say the broker cannot be reached (see above), as opposed to a fault of the request? */
export function isBrokerUnreachable(error: unknown): boolean {
  return saysUnreachable(error, 0);
}

/** isBrokerUnreachable at `depth` wrappers down (bounded: a cycle of causes ends the search). */
function saysUnreachable(error: unknown, depth: number): boolean {
  if (error === null || typeof error !== 'object' || depth > 8) return false;
  const e = error as ErrorLike;
  if (e.unreachable === true) return true;
  if (typeof e.code === 'string' && SOCKET_CODES.has(e.code)) return true;
  if (typeof e.name === 'string' && KAFKAJS_UNREACHABLE.has(e.name)) return true;
  if (typeof e.type === 'string' && PROTOCOL_UNAVAILABLE.has(e.type)) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => saysUnreachable(inner, depth + 1))) return true;
  const inner = e.cause ?? e.originalError;
  return inner !== error && saysUnreachable(inner, depth + 1);
}

/** A kafkajs log line, as a kafkajs `logCreator` receives it (`namespace`, and `log.message`). */
export interface KafkajsLogEntry {
  namespace: string;
  message: string;
}

/**
 * What a kafkajs 2.2.4 log line is about. kafkajs hands its log lines over as text, without the error
 * behind them, so this reads the fixed wording of the few lines that matter, in the namespace that
 * writes them (kafkajs is pinned to 2.2.4; its unit test checks each wording against kafkajs's source):
 * - `unreachable`: its connection layer could not reach a broker (network/connection.js
 *   "Connection error: …" and "Connection timeout"; cluster/brokerPool.js "Failed to connect to seed
 *   broker, …", or the bare message of a KafkaJSConnectionClosedError or KafkaJSRequestTimeoutError it
 *   met on connecting). The same failure reaches the caller as a typed error once kafkajs stops retrying;
 * - `crash`: a consumer's "Crash: …" and "Restarting the consumer in …" notices (consumer/index.js),
 *   which the consumer's CRASH event carries with the error itself;
 * - `other`: anything else (a protocol error answer, a rebalance, a failed authentication, …).
 */
export function kafkajsLogKind(entry: KafkajsLogEntry): 'unreachable' | 'crash' | 'other' {
  const { namespace, message } = entry;
  if (namespace === 'Connection' && /^Connection (error: |timeout$)/.test(message)) return 'unreachable';
  if (
    namespace === 'BrokerPool' &&
    /^(Failed to connect to seed broker, |Closed connection$|Request .* timed out$)/.test(message)
  )
    return 'unreachable';
  if (namespace === 'Consumer' && /^(Crash: |Restarting the consumer in )/.test(message)) return 'crash';
  return 'other';
}
