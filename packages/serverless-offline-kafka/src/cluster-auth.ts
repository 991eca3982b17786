/**
 * How an event's consumer authenticates, read from the event as AWS reads it: a `kafka` event's
 * `accessConfigurations` (saslScram256Auth, saslScram512Auth, saslPlainAuth, serverRootCaCertificate;
 * each a Secrets Manager secret ARN) and an `msk` event's `saslScram512`. As on Lambda, SASL always runs
 * over TLS (SASL_SSL), and a server root CA alone means TLS without SASL (kafka-cluster-auth.html).
 * The secrets are read at every connection attempt (./secrets), so a corrected or rotated secret is
 * picked up without a restart.
 */
import type { ConnectionOptions } from 'node:tls';
import type { SASLOptions } from 'kafkajs';
import { brokerRefusal } from 'kafkajs-resilience';
import { OfflineKafkaConfigError, OfflineKafkaError } from './errors';
import type { SecretReader } from './secrets';

export type SaslMechanism = 'scram-sha-256' | 'scram-sha-512' | 'plain';

/** serverless.yml's accessConfigurations keys → the SASL mechanism each one means */
const SASL_KEYS: Record<string, SaslMechanism> = {
  saslScram256Auth: 'scram-sha-256',
  saslScram512Auth: 'scram-sha-512',
  saslPlainAuth: 'plain',
};
/** what the local event source does not do yet, said once at start rather than failing later */
const NOT_LOCAL = ['clientCertificateTlsAuth'];

export interface ClusterAuth {
  /** SASL over TLS, with `{"username","password"}` from the secret */
  sasl?: { mechanism: SaslMechanism; secretArn: string };
  /** a secret whose `certificate` field is the PEM of the CA that signed the brokers' certificates */
  serverRootCaSecretArn?: string;
  /** settings of the event the local event source ignores */
  ignored: string[];
}

/** The first ARN of a setting written as one ARN or a list of them. */
function arnOf(value: unknown): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' && first.length > 0 ? first : undefined;
}

/** The event's authentication, or undefined for a plaintext cluster (the local broker's default). */
export function readClusterAuth(
  where: string,
  kind: 'msk' | 'kafka',
  raw: Record<string, unknown>,
): ClusterAuth | undefined {
  if (kind === 'msk') {
    const secretArn = arnOf(raw.saslScram512);
    return secretArn ? { sasl: { mechanism: 'scram-sha-512', secretArn }, ignored: [] } : undefined;
  }
  const access = raw.accessConfigurations;
  if (!access || typeof access !== 'object') return undefined;
  const entries = access as Record<string, unknown>;
  const sasl = Object.keys(SASL_KEYS).filter((key) => arnOf(entries[key]));
  if (sasl.length > 1) {
    throw new OfflineKafkaConfigError(`${where}: accessConfigurations has ${sasl.join(' and ')}: choose one`);
  }
  const auth: ClusterAuth = {
    sasl: sasl[0] ? { mechanism: SASL_KEYS[sasl[0]]!, secretArn: arnOf(entries[sasl[0]])! } : undefined,
    serverRootCaSecretArn: arnOf(entries.serverRootCaCertificate),
    ignored: NOT_LOCAL.filter((key) => arnOf(entries[key])),
  };
  return auth.sasl || auth.serverRootCaSecretArn || auth.ignored.length > 0 ? auth : undefined;
}

/** `PLAINTEXT`, `SSL` or `SASL_SSL (SCRAM-SHA-512)`: what the `ready:` line says of a consumer. */
export function describeClusterAuth(auth: ClusterAuth | undefined): string {
  if (auth?.sasl) return `SASL_SSL (${auth.sasl.mechanism.toUpperCase()})`;
  return auth?.serverRootCaSecretArn ? 'SSL' : 'PLAINTEXT';
}

/** The secret, or a cluster-auth error naming the setting it is for. */
async function secretFor(readSecret: SecretReader, arn: string, what: string): Promise<Record<string, unknown>> {
  try {
    return await readSecret(arn);
  } catch (error) {
    throw new ClusterAuthError(`the secret ${arn} (${what}) cannot be read: ${(error as Error).message}`, error);
  }
}

/** The kafkajs `ssl` and `sasl` settings of `auth`, with its secrets read now. */
export async function connectionSettings(
  auth: ClusterAuth | undefined,
  readSecret: SecretReader,
): Promise<{ ssl?: ConnectionOptions | boolean; sasl?: SASLOptions }> {
  if (!auth || (!auth.sasl && !auth.serverRootCaSecretArn)) return {};
  let ssl: ConnectionOptions | boolean = true;
  if (auth.serverRootCaSecretArn) {
    const secret = await secretFor(readSecret, auth.serverRootCaSecretArn, 'serverRootCaCertificate');
    if (typeof secret.certificate !== 'string' || !secret.certificate.includes('BEGIN CERTIFICATE')) {
      throw new ClusterAuthError(
        `the secret ${auth.serverRootCaSecretArn} (serverRootCaCertificate) has no "certificate" field with a PEM certificate`,
      );
    }
    ssl = { ca: [secret.certificate] };
  }
  if (!auth.sasl) return { ssl };
  const { mechanism, secretArn } = auth.sasl;
  const secret = await secretFor(readSecret, secretArn, mechanism.toUpperCase());
  const { username, password } = secret;
  if (typeof username !== 'string' || typeof password !== 'string') {
    throw new ClusterAuthError(`the secret ${secretArn} (${mechanism.toUpperCase()}) needs "username" and "password"`);
  }
  return { ssl, sasl: { mechanism, username, password } as SASLOptions };
}

/** The cluster refused who the consumer is (a secret, a password, a certificate): fixing the settings ends it. */
export class ClusterAuthError extends OfflineKafkaError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'OFFLINE_KAFKA_AUTH', retriable: true, cause });
    this.name = 'ClusterAuthError';
  }
}

/**
 * What to fix when `error` is about who the consumer is, not about the broker being away: a secret that
 * cannot be read (a ClusterAuthError, wrapped or not), credentials the broker refuses, a certificate the
 * consumer does not trust (kafkajs-resilience's brokerRefusal). Undefined for anything else.
 */
export function authProblem(error: unknown): string | undefined {
  const own = clusterAuthError(error);
  if (own) return own.message;
  const refusal = brokerRefusal(error);
  if (refusal?.kind === 'credentials')
    return `the broker refused the credentials (${refusal.message}): check the username and password in the secret`;
  if (refusal?.kind === 'certificate')
    return `the broker's TLS certificate is not trusted (${refusal.message}): set serverRootCaCertificate to a secret with the CA that signed it`;
  return undefined;
}

/** The ClusterAuthError that `error` is or wraps (`cause`, kafkajs's `originalError`). */
function clusterAuthError(error: unknown, depth = 0): ClusterAuthError | undefined {
  if (!error || typeof error !== 'object' || depth > 5) return undefined;
  if (error instanceof ClusterAuthError) return error;
  const e = error as { cause?: unknown; originalError?: unknown };
  return clusterAuthError(e.cause, depth + 1) ?? clusterAuthError(e.originalError, depth + 1);
}
