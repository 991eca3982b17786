/**
 * What a function needs to reach Amazon MSK: the bootstrap brokers of a cluster (discovered from its
 * ARN), IAM authentication tokens, and SCRAM credentials kept in Secrets Manager. Locally none of this
 * runs: lib/kafka/client.ts uses it only when the configuration names a cluster, IAM or a secret.
 */
// Types only: the AWS SDK and the signer are loaded on first use (`await import`). Locally, and on AWS
// with plain brokers, they never load; a bundled function does not evaluate their ~1.3 MB at cold start.
import type { GetBootstrapBrokersCommandOutput, KafkaClient } from '@aws-sdk/client-kafka';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { GenerateAuthTokenResponse } from 'aws-msk-iam-sasl-signer-js';
import type { OauthbearerProviderResponse } from 'kafkajs';
import type { AuthMode } from '../config';
import { AppError } from '../errors';

/** MSK could not tell us how to connect: the cluster, the secret or the permissions are wrong. */
export class MskSetupError extends AppError {
  constructor(message: string, options: { retriable: boolean; cause?: unknown }) {
    super(message, { code: 'MSK_SETUP_FAILED', statusCode: 503, ...options });
    this.name = 'MskSetupError';
  }
}

/**
 * Which field of GetBootstrapBrokers answers for an auth mode: each MSK listener has its own port
 * (9092 plaintext, 9094 TLS, 9096 SCRAM, 9098 IAM), and a client must use the one its mechanism is on.
 */
export const BOOTSTRAP_FIELD = {
  iam: 'BootstrapBrokerStringSaslIam',
  scram: 'BootstrapBrokerStringSaslScram',
  tls: 'BootstrapBrokerStringTls',
  plaintext: 'BootstrapBrokerString',
} as const satisfies Record<string, keyof GetBootstrapBrokersCommandOutput>;

export function bootstrapField(auth: AuthMode, ssl: boolean): (typeof BOOTSTRAP_FIELD)[keyof typeof BOOTSTRAP_FIELD] {
  if (auth === 'iam') return BOOTSTRAP_FIELD.iam;
  if (auth === 'scram') return BOOTSTRAP_FIELD.scram;
  return ssl ? BOOTSTRAP_FIELD.tls : BOOTSTRAP_FIELD.plaintext;
}

/** AWS errors a retry can fix (throttling, a network blip, a 5xx); everything else is a setup mistake. */
function isRetriableAwsError(error: unknown): boolean {
  const e = error as { $retryable?: unknown; $metadata?: { httpStatusCode?: number }; name?: string };
  if (e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status === undefined) return true; // never reached AWS: network
  return status >= 500 || status === 429 || e.name === 'ThrottlingException' || e.name === 'TooManyRequestsException';
}

/**
 * The bootstrap brokers of an MSK cluster for an auth mode, as host:port strings.
 *
 * @example
 * await getBootstrapBrokers({ clusterArn, auth: 'iam', ssl: true, client: new KafkaClient({}) });
 * // ['b-1.demo.abc123.c2.kafka.eu-west-1.amazonaws.com:9098', …]
 */
export async function getBootstrapBrokers(options: {
  clusterArn: string;
  auth: AuthMode;
  ssl: boolean;
  client: KafkaClient;
}): Promise<string[]> {
  const field = bootstrapField(options.auth, options.ssl);
  let output: GetBootstrapBrokersCommandOutput;
  try {
    const { GetBootstrapBrokersCommand } = await import('@aws-sdk/client-kafka');
    output = await options.client.send(new GetBootstrapBrokersCommand({ ClusterArn: options.clusterArn }));
  } catch (error) {
    throw new MskSetupError(
      `GetBootstrapBrokers failed for ${options.clusterArn}: ${(error as Error).message} ` +
        '(the function needs kafka:GetBootstrapBrokers on the cluster and a route to the MSK API)',
      { retriable: isRetriableAwsError(error), cause: error },
    );
  }
  const value = output[field];
  if (!value) {
    throw new MskSetupError(
      `the MSK cluster ${options.clusterArn} has no ${field}: enable that access method on the cluster, ` +
        `or set KAFKA_AUTH to a mode the cluster offers`,
      { retriable: false },
    );
  }
  return value.split(',').map((b) => b.trim());
}

const brokerCache = new Map<string, Promise<string[]>>();

/**
 * getBootstrapBrokers, asked once per container (cluster and auth mode): every Kafka client of the
 * container shares the answer. A failure is not cached, so the next connection attempt asks again.
 */
export function cachedBootstrapBrokers(options: Parameters<typeof getBootstrapBrokers>[0]): Promise<string[]> {
  const key = `${options.clusterArn}|${bootstrapField(options.auth, options.ssl)}`;
  let answer = brokerCache.get(key);
  if (!answer) {
    answer = getBootstrapBrokers(options);
    brokerCache.set(key, answer);
    answer.catch(() => brokerCache.delete(key));
  }
  return answer;
}

/** Forget the discovered brokers (tests; a container never needs it). */
export function clearBrokerCache(): void {
  brokerCache.clear();
}

export type TokenGenerator = (options: { region: string }) => Promise<GenerateAuthTokenResponse>;

/**
 * A kafkajs `oauthBearerProvider` for MSK IAM auth. kafkajs calls it on every new connection and on
 * every re-authentication (MSK ends a session when its token expires, 15 minutes at most). A token is
 * reused while it has more than `refreshMarginMs` left, so a connection made just before expiry never
 * gets a token that dies during its session; concurrent callers share one signing.
 *
 * @example
 * new Kafka({ brokers, ssl: true, sasl: { mechanism: 'oauthbearer', oauthBearerProvider: createIamTokenProvider({ region }) } });
 */
export function createIamTokenProvider(options: {
  region: string;
  /** default: the signer with the default AWS credential chain (the function's role on Lambda) */
  generateToken?: TokenGenerator;
  refreshMarginMs?: number;
  now?: () => number;
}): () => Promise<OauthbearerProviderResponse> {
  const generate =
    options.generateToken ?? (async (o) => (await import('aws-msk-iam-sasl-signer-js')).generateAuthToken(o));
  const margin = options.refreshMarginMs ?? 5 * 60_000;
  const now = options.now ?? Date.now;
  let current: GenerateAuthTokenResponse | undefined;
  let signing: Promise<GenerateAuthTokenResponse> | undefined;
  return async () => {
    if (current && current.expiryTime - margin > now()) return { value: current.token };
    signing ??= generate({ region: options.region })
      .then((token) => (current = token))
      .catch((error: unknown) => {
        throw new MskSetupError(`could not sign an MSK IAM token: ${(error as Error).message}`, {
          retriable: true,
          cause: error,
        });
      })
      .finally(() => (signing = undefined));
    return { value: (await signing).token };
  };
}

/**
 * SCRAM credentials from a Secrets Manager secret, in the format MSK requires
 * (`{"username": "…", "password": "…"}`, secret name prefixed `AmazonMSK_`).
 */
export async function getScramCredentials(options: {
  secretArn: string;
  client: SecretsManagerClient;
}): Promise<{ username: string; password: string }> {
  let text: string | undefined;
  try {
    const { GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
    text = (await options.client.send(new GetSecretValueCommand({ SecretId: options.secretArn }))).SecretString;
  } catch (error) {
    throw new MskSetupError(
      `could not read the SCRAM secret ${options.secretArn}: ${(error as Error).message} ` +
        '(the function needs secretsmanager:GetSecretValue on it, and kms:Decrypt on its key)',
      { retriable: isRetriableAwsError(error), cause: error },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? '');
  } catch {
    parsed = undefined;
  }
  const { username, password } = (parsed ?? {}) as { username?: unknown; password?: unknown };
  if (typeof username !== 'string' || !username || typeof password !== 'string' || !password) {
    throw new MskSetupError(
      `the secret ${options.secretArn} must be JSON {"username": "…", "password": "…"} (MSK's SCRAM secret format)`,
      { retriable: false },
    );
  }
  return { username, password };
}

/** The AWS SDK clients used here; tests pass clients whose HTTP layer is stubbed. */
export interface AwsClients {
  kafka?: KafkaClient;
  secretsManager?: SecretsManagerClient;
  generateIamToken?: TokenGenerator;
}

/**
 * SDK clients for the region, loaded and built on first use (a local run never loads the SDK,
 * credentials or a client).
 */
export function defaultAwsClients(region: string | undefined): {
  kafka(): Promise<KafkaClient>;
  secretsManager(): Promise<SecretsManagerClient>;
} {
  let kafka: Promise<KafkaClient> | undefined;
  let secretsManager: Promise<SecretsManagerClient> | undefined;
  return {
    kafka: () => (kafka ??= import('@aws-sdk/client-kafka').then(({ KafkaClient }) => new KafkaClient({ region }))),
    secretsManager: () =>
      (secretsManager ??= import('@aws-sdk/client-secrets-manager').then(
        ({ SecretsManagerClient }) => new SecretsManagerClient({ region }),
      )),
  };
}
