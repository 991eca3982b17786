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
  message?: unknown;
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
  return someInChain(error, (e) => {
    if (e.unreachable === true) return true;
    if (typeof e.code === 'string' && SOCKET_CODES.has(e.code)) return true;
    if (typeof e.name === 'string' && KAFKAJS_UNREACHABLE.has(e.name)) return true;
    return typeof e.type === 'string' && PROTOCOL_UNAVAILABLE.has(e.type);
  });
}

/** Node.js's TLS verification codes: the broker's certificate is not signed by a CA the client trusts. */
const TLS_TRUST_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
]);

/** TLS alerts (as Node.js names them) of a server that did not accept the client's certificate (RFC 8446, 6.2). */
const CLIENT_CERTIFICATE_ALERT =
  /^ERR_SSL_(SSLV3|TLSV1|TLSV13)_ALERT_(BAD_CERTIFICATE|UNSUPPORTED_CERTIFICATE|CERTIFICATE_(UNKNOWN|EXPIRED|REVOKED|REQUIRED)|UNKNOWN_CA)$/;

/**
 * Why the broker and the client would not talk, when it is about who they are rather than whether the
 * broker is there: kind `credentials` when the broker refused the SASL authentication (kafkajs's
 * KafkaJSSASLAuthenticationError, or the SASL_AUTHENTICATION_FAILED protocol code), `certificate` when the
 * client does not trust the broker's TLS certificate (Node.js's verification codes, which kafkajs copies
 * onto its KafkaJSConnectionError), `client-certificate` when the broker did not accept the client's
 * certificate in mutual TLS (the TLS alert it sent, as Node.js's ERR_SSL_…_ALERT_… code). Undefined for anything else. Retrying does not help until the
 * settings change; it walks the same wrappers as isBrokerUnreachable.
 */
export function brokerRefusal(error: unknown): BrokerRefusal | undefined {
  let refusal: BrokerRefusal | undefined;
  someInChain(error, (e) => {
    const message = typeof e.message === 'string' ? e.message : String(e);
    if (e.name === 'KafkaJSSASLAuthenticationError' || e.type === 'SASL_AUTHENTICATION_FAILED')
      refusal = { kind: 'credentials', message };
    else if (typeof e.code === 'string' && TLS_TRUST_CODES.has(e.code)) refusal = { kind: 'certificate', message };
    else if (typeof e.code === 'string' && CLIENT_CERTIFICATE_ALERT.test(e.code))
      refusal = { kind: 'client-certificate', message };
    return refusal !== undefined;
  });
  return refusal;
}

/** A broker's refusal of the client: its kind, and the message of the error that says it. */
export interface BrokerRefusal {
  kind: 'credentials' | 'certificate' | 'client-certificate';
  message: string;
}

/** Does `test` hold for `error` or an error it wraps (bounded: a cycle of causes ends the search)? */
function someInChain(error: unknown, test: (e: ErrorLike) => boolean, depth = 0): boolean {
  if (error === null || typeof error !== 'object' || depth > 8) return false;
  const e = error as ErrorLike;
  if (test(e)) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => someInChain(inner, test, depth + 1))) return true;
  const inner = e.cause ?? e.originalError;
  return inner !== error && someInChain(inner, test, depth + 1);
}

/** A kafkajs log line, as a kafkajs `logCreator` receives it (`namespace`, and the `log` fields used here). */
export interface KafkajsLogEntry {
  /** undefined for the lines of kafkajs's root logger (src/index.js) */
  namespace: string | undefined;
  message: string;
  /** set by kafkajs on a line about one failed attempt of an operation it retries */
  retryCount?: unknown;
}

/** What a kafkajs log line is about (kafkajsLogKind). */
export type KafkajsLogKind = 'unreachable' | 'crash' | 'refused' | 'attempt' | 'other';

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
 * - `refused`: the broker refused the SASL authentication (broker/saslAuthenticator/*.js "SASL …
 *   authentication failed: …" and "SASL SCRAM … authentication: Invalid username or password", logged by the authenticator itself
 *   (namespace SaslAuthenticator-<mechanism>) and again by cluster/brokerPool.js, and network/connection.js's
 *   "Response SaslAuthenticate(…)"); the caller gets a KafkaJSSASLAuthenticationError (brokerRefusal);
 * - `attempt`: any other line about one failed request (network/connection.js's "Response <Api>(…)"
 *   with the broker's error, which it then throws) or one failed attempt of an operation kafkajs retries
 *   (it carries `retryCount`: producer/sendMessages.js, admin/index.js, cluster/brokerPool.js): the
 *   failure reaches the caller as an error;
 * - `other`: anything else (a rebalance, a protocol error answer outside a retry, …).
 */
export function kafkajsLogKind(entry: KafkajsLogEntry): KafkajsLogKind {
  const { namespace, message } = entry;
  if (namespace === 'Connection' && /^Connection (error: |timeout$)/.test(message)) return 'unreachable';
  if (
    namespace === 'BrokerPool' &&
    /^(Failed to connect to seed broker, |Closed connection$|Request .* timed out$)/.test(message)
  )
    return 'unreachable';
  if (namespace === 'Consumer' && /^(Crash: |Restarting the consumer in )/.test(message)) return 'crash';
  if (
    (namespace === 'BrokerPool' || String(namespace).startsWith('SaslAuthenticator-')) &&
    /^SASL [A-Z0-9 -]+ authentication( failed)?: /.test(message)
  )
    return 'refused';
  if (namespace === 'Connection' && /^Response SaslAuthenticate\(/.test(message)) return 'refused';
  if (namespace === 'Connection' && /^Response \w+\(/.test(message)) return 'attempt';
  if (typeof entry.retryCount === 'number') return 'attempt';
  return 'other';
}
