/**
 * How an event's consumer authenticates, read from the event as AWS reads it: a `kafka` event's
 * `accessConfigurations` (saslScram256Auth, saslScram512Auth, saslPlainAuth, clientCertificateTlsAuth,
 * serverRootCaCertificate; each a Secrets Manager secret ARN) and an `msk` event's `saslScram512` — or,
 * with the plugin option `mskIam`, MSK IAM for an `msk` event without it, signed with the developer's own
 * AWS credentials as a function's role signs on AWS (kafka-cluster-auth.html, msk-cluster-auth.html). As on
 * Lambda, SASL always runs over TLS (SASL_SSL), a client certificate means mutual TLS, and a server root
 * CA alone means TLS without SASL
 * (https://docs.aws.amazon.com/lambda/latest/dg/kafka-cluster-auth.html).
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

/** Signs an MSK IAM token for `region` (aws-msk-iam-sasl-signer-js's generateAuthToken). */
export type IamTokenSigner = (region: string) => Promise<{ token: string }>;

/** The signer of aws-msk-iam-sasl-signer-js with the default AWS credential chain (profile, env, SSO, …). */
export const signWithOwnCredentials: IamTokenSigner = async (region) =>
  (await import('aws-msk-iam-sasl-signer-js')).generateAuthToken({ region });

export interface ClusterAuth {
  /** SASL over TLS, with `{"username","password"}` from the secret */
  sasl?: { mechanism: SaslMechanism; secretArn: string };
  /** MSK IAM: SASL/OAUTHBEARER over TLS with a token signed for the cluster's region */
  iam?: { region: string };
  /** mutual TLS, with `{"certificate","privateKey","privateKeyPassword"?}` (PEM) from the secret */
  clientCertificateSecretArn?: string;
  /** a secret whose `certificate` field is the PEM of the CA that signed the brokers' certificates */
  serverRootCaSecretArn?: string;
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
  msk: { iam: boolean; region: string } = { iam: false, region: 'us-east-1' },
): ClusterAuth | undefined {
  if (kind === 'msk') {
    const secretArn = arnOf(raw.saslScram512);
    if (secretArn) return { sasl: { mechanism: 'scram-sha-512', secretArn } };
    // the cluster's region, from its ARN (arn:aws:kafka:<region>:…), else the service's
    const region = typeof raw.arn === 'string' ? /^arn:aws[\w-]*:kafka:([\w-]+):/.exec(raw.arn)?.[1] : undefined;
    return msk.iam ? { iam: { region: region ?? msk.region } } : undefined;
  }
  const access = raw.accessConfigurations;
  if (!access || typeof access !== 'object') return undefined;
  const entries = access as Record<string, unknown>;
  const sasl = Object.keys(SASL_KEYS).filter((key) => arnOf(entries[key]));
  const methods = [...sasl, ...(arnOf(entries.clientCertificateTlsAuth) ? ['clientCertificateTlsAuth'] : [])];
  if (methods.length > 1) {
    throw new OfflineKafkaConfigError(`${where}: accessConfigurations has ${methods.join(' and ')}: choose one`);
  }
  const auth: ClusterAuth = {
    sasl: sasl[0] ? { mechanism: SASL_KEYS[sasl[0]]!, secretArn: arnOf(entries[sasl[0]])! } : undefined,
    clientCertificateSecretArn: arnOf(entries.clientCertificateTlsAuth),
    serverRootCaSecretArn: arnOf(entries.serverRootCaCertificate),
  };
  return auth.sasl || auth.clientCertificateSecretArn || auth.serverRootCaSecretArn ? auth : undefined;
}

/** `PLAINTEXT`, `SSL`, `SSL (client certificate)` or `SASL_SSL (SCRAM-SHA-512)`: what the `ready:` line says of a consumer. */
export function describeClusterAuth(auth: ClusterAuth | undefined): string {
  if (auth?.sasl) return `SASL_SSL (${auth.sasl.mechanism.toUpperCase()})`;
  if (auth?.iam) return 'SASL_SSL (OAUTHBEARER, MSK IAM)';
  if (auth?.clientCertificateSecretArn) return 'SSL (client certificate)';
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

/**
 * The kafkajs `ssl` and `sasl` settings of `auth`, with its secrets read now. For MSK IAM a token is
 * signed now, so missing credentials are told before any connection, and again by kafkajs's
 * `oauthBearerProvider` for every connection (a token lives 15 minutes).
 */
export async function connectionSettings(
  auth: ClusterAuth | undefined,
  readSecret: SecretReader,
  signIamToken: IamTokenSigner = signWithOwnCredentials,
): Promise<{ ssl?: ConnectionOptions | boolean; sasl?: SASLOptions }> {
  if (!auth) return {};
  if (auth.iam) {
    const { region } = auth.iam;
    const sign = async () => {
      try {
        return { value: (await signIamToken(region)).token };
      } catch (error) {
        throw new ClusterAuthError(
          `an MSK IAM token for ${region} cannot be signed with your AWS credentials (${(error as Error).message}): ` +
            'set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY',
          error,
        );
      }
    };
    await sign();
    return { ssl: true, sasl: { mechanism: 'oauthbearer', oauthBearerProvider: sign } };
  }
  let ssl: ConnectionOptions = {};
  if (auth.serverRootCaSecretArn) {
    const secret = await secretFor(readSecret, auth.serverRootCaSecretArn, 'serverRootCaCertificate');
    if (!isPem(secret.certificate, 'CERTIFICATE')) {
      throw new ClusterAuthError(
        `the secret ${auth.serverRootCaSecretArn} (serverRootCaCertificate) has no "certificate" field with a PEM certificate`,
      );
    }
    ssl = { ca: [secret.certificate] };
  }
  if (auth.clientCertificateSecretArn) {
    const arn = auth.clientCertificateSecretArn;
    const { certificate, privateKey, privateKeyPassword } = await secretFor(
      readSecret,
      arn,
      'clientCertificateTlsAuth',
    );
    if (!isPem(certificate, 'CERTIFICATE') || !isPem(privateKey, 'PRIVATE KEY')) {
      throw new ClusterAuthError(
        `the secret ${arn} (clientCertificateTlsAuth) needs "certificate" and "privateKey" in PEM (and "privateKeyPassword" for an encrypted key)`,
      );
    }
    const passphrase = typeof privateKeyPassword === 'string' ? privateKeyPassword : undefined;
    ssl = { ...ssl, cert: certificate, key: privateKey, passphrase };
  }
  const tls = Object.keys(ssl).length > 0 ? ssl : true;
  if (!auth.sasl) return { ssl: tls };
  const { mechanism, secretArn } = auth.sasl;
  const secret = await secretFor(readSecret, secretArn, mechanism.toUpperCase());
  const { username, password } = secret;
  if (typeof username !== 'string' || typeof password !== 'string') {
    throw new ClusterAuthError(`the secret ${secretArn} (${mechanism.toUpperCase()}) needs "username" and "password"`);
  }
  return { ssl: tls, sasl: { mechanism, username, password } as SASLOptions };
}

/** Is `value` a PEM text holding a `label` block ("CERTIFICATE"; "PRIVATE KEY" also matches "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY")? */
function isPem(value: unknown, label: string): value is string {
  return typeof value === 'string' && new RegExp(`-----BEGIN [A-Z ]*${label}-----`).test(value);
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
export function authProblem(error: unknown, auth?: ClusterAuth): string | undefined {
  const own = clusterAuthError(error);
  if (own) return own.message;
  const refusal = brokerRefusal(error);
  if (refusal?.kind === 'credentials' && auth?.iam)
    return `the broker refused the MSK IAM token (${refusal.message}): your AWS identity needs kafka-cluster:Connect (and the topic and group actions) on the cluster`;
  if (refusal?.kind === 'credentials')
    return `the broker refused the credentials (${refusal.message}): check the username and password in the secret`;
  if (refusal?.kind === 'certificate')
    return `the broker's TLS certificate is not trusted (${refusal.message}): set serverRootCaCertificate to a secret with the CA that signed it`;
  if (refusal?.kind === 'client-certificate')
    return `the broker did not accept the client certificate (${refusal.message}): set clientCertificateTlsAuth to a secret with a certificate signed by a CA the broker trusts`;
  return undefined;
}

/** The ClusterAuthError that `error` is or wraps (`cause`, kafkajs's `originalError`). */
function clusterAuthError(error: unknown, depth = 0): ClusterAuthError | undefined {
  if (!error || typeof error !== 'object' || depth > 5) return undefined;
  if (error instanceof ClusterAuthError) return error;
  const e = error as { cause?: unknown; originalError?: unknown };
  return clusterAuthError(e.cause, depth + 1) ?? clusterAuthError(e.originalError, depth + 1);
}
